import NeuroODE

/// What one simulation needs beyond the model: initial state, parameter changes, span, integrator
/// and what to record. Start time is always 0.
public struct SimulationRequest: Sendable {
    /// `nil` keeps the model's default initial state.
    public var initialState: [Double]?
    /// Applied in order, each validated by the model.
    public var parameterChanges: [(name: String, value: Double)]
    public var endTime: Double
    public var integrator: IntegratorSettings
    public var output: OutputSchedule
    /// Threshold for spike detection, or `nil` for no spikes.
    public var spikeThreshold: Double?

    /// Sets every stored property.
    public init(initialState: [Double]? = nil, parameterChanges: [(name: String, value: Double)], endTime: Double, integrator: IntegratorSettings, output: OutputSchedule, spikeThreshold: Double? = nil) {
        self.initialState = initialState
        self.parameterChanges = parameterChanges
        self.endTime = endTime
        self.integrator = integrator
        self.output = output
        self.spikeThreshold = spikeThreshold
    }
}

/// Where a model's spikes come from.
public enum SpikeSource: Sendable {
    /// Upward crossings of the threshold by each membrane potential (``ODESystem/voltageIndices``).
    case thresholdCrossings
    /// The times at which the listed events fired, one list per neuron (integrate-and-fire resets);
    /// the threshold is the model's own.
    case events([Int])
}

/// A type-erased simulation of one concrete model: everything the command needs to know about the
/// system (names, sizes) plus a closure that builds the problem and runs the chosen integrator on
/// the concrete type.
public struct SimulationRunner: Sendable {
    public let modelName: String
    public let stateNames: [String]
    public let parameterNames: [String]
    public let voltageIndices: [Int]
    public let spikeSource: SpikeSource
    private let body: @Sendable (SimulationRequest) throws(ODEError) -> Solution

    public init<System: ODESystem>(_ system: System, spikeSource: SpikeSource = .thresholdCrossings) {
        modelName = system.name
        stateNames = system.stateNames
        parameterNames = system.parameterNames
        voltageIndices = system.voltageIndices
        self.spikeSource = spikeSource
        body = { (request: SimulationRequest) throws(ODEError) -> Solution in
            var problem = try ODEProblem(
                system: system, initialState: request.initialState, timeSpan: (start: 0, end: request.endTime))
            for change in request.parameterChanges {
                try problem.setParameter(change.name, to: change.value)
            }
            var detection: SpikeDetection?
            if let threshold = request.spikeThreshold, case .thresholdCrossings = spikeSource {
                detection = SpikeDetection(threshold: threshold)
            }
            return try request.integrator.solve(problem, output: request.output, spikes: detection)
        }
    }

    /// Whether this model has anything to call a spike.
    public var hasSpikes: Bool {
        switch spikeSource {
        case .thresholdCrossings: !voltageIndices.isEmpty
        case let .events(indices): !indices.isEmpty
        }
    }

    public func run(_ request: SimulationRequest) throws(ODEError) -> Solution {
        try body(request)
    }

    /// One array of spike times per neuron.
    public func spikeTimes(in solution: Solution) -> [[Double]] {
        switch spikeSource {
        case .thresholdCrossings:
            return solution.spikeTimes
        case let .events(indices):
            return indices.map { index in solution.events.filter { $0.index == index }.map(\.time) }
        }
    }
}
