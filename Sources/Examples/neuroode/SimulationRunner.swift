import NeuroODE

/// What one simulation needs beyond the model: initial state, parameter changes, span, integrator
/// and what to record. Start time is always 0.
struct SimulationRequest: Sendable {
    /// `nil` keeps the model's default initial state.
    var initialState: [Double]?
    /// Applied in order, each validated by the model.
    var parameterChanges: [(name: String, value: Double)]
    var endTime: Double
    var integrator: IntegratorSettings
    var output: OutputSchedule
    /// Threshold for spike detection, or `nil` for no spikes.
    var spikeThreshold: Double?
}

/// Where a model's spikes come from.
enum SpikeSource: Sendable {
    /// Upward crossings of the threshold by each membrane potential (``ODESystem/voltageIndices``).
    case thresholdCrossings
    /// The times at which the listed events fired, one list per neuron (integrate-and-fire resets);
    /// the threshold is the model's own.
    case events([Int])
}

/// A type-erased simulation of one concrete model: everything the command needs to know about the
/// system (names, sizes) plus a closure that builds the problem and runs the chosen integrator on
/// the concrete type.
struct SimulationRunner: Sendable {
    let modelName: String
    let stateNames: [String]
    let parameterNames: [String]
    let voltageIndices: [Int]
    let spikeSource: SpikeSource
    private let body: @Sendable (SimulationRequest) throws(ODEError) -> Solution

    init<System: ODESystem>(_ system: System, spikeSource: SpikeSource = .thresholdCrossings) {
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
    var hasSpikes: Bool {
        switch spikeSource {
        case .thresholdCrossings: !voltageIndices.isEmpty
        case let .events(indices): !indices.isEmpty
        }
    }

    func run(_ request: SimulationRequest) throws(ODEError) -> Solution {
        try body(request)
    }

    /// One array of spike times per neuron.
    func spikeTimes(in solution: Solution) -> [[Double]] {
        switch spikeSource {
        case .thresholdCrossings:
            return solution.spikeTimes
        case let .events(indices):
            return indices.map { index in solution.events.filter { $0.index == index }.map(\.time) }
        }
    }
}
