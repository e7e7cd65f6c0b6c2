import NeuroODE

/// Everything that defines one training problem: the system, its initial state and horizon, the
/// integrator of the forward pass, which parameters are trained, and the loss.
///
/// The trainable vector θ is the selected system parameters (in the order of `trainedParameters`)
/// followed by the loss's own parameters. Every gradient method works on a task, and a task is an
/// ``Objective``, so forward-only methods need nothing else.
public struct TrainingTask<System: ODESystem, Method: Integrator, Loss: TaskLoss>: Objective {
    /// Name used in messages and result files.
    public let name: String
    /// The model.
    public let system: System
    /// y₀, validated when the task was built (not trained).
    public let initialState: [Double]
    /// The horizon [t₀, T].
    public let timeSpan: (start: Double, end: Double)
    /// The integrator of every forward pass (and the map BPTT differentiates).
    public let integrator: Method
    /// The loss L = Φ(Q, Y, θ_L).
    public let loss: Loss
    /// Indices into the system's parameter vector of the trained parameters.
    public let trainedParameters: [Int]
    /// The full system parameter vector; entries not trained keep these values.
    public let systemParameters: [Double]

    /// Builds a task, training the named system parameters (all loss parameters are trained too).
    public init(
        name: String, system: System, initialState: [Double]? = nil, systemParameters: [Double]? = nil,
        timeSpan: (start: Double, end: Double), integrator: Method, loss: Loss, training names: [String]
    ) throws(ODEError) {
        // One lookup table: a network has tens of thousands of named weights.
        let all = system.parameterNames
        let position = Dictionary(all.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        var indices: [Int] = []
        indices.reserveCapacity(names.count)
        for parameterName in names {
            guard let index = position[parameterName] else { throw .unknownParameter(name: parameterName, model: system.name) }
            indices.append(index)
        }
        try self.init(
            name: name, system: system, initialState: initialState, systemParameters: systemParameters,
            timeSpan: timeSpan, integrator: integrator, loss: loss, trainingIndices: indices)
    }

    /// Builds a task training the system parameters at `indices` (and all loss parameters).
    public init(
        name: String, system: System, initialState: [Double]? = nil, systemParameters: [Double]? = nil,
        timeSpan: (start: Double, end: Double), integrator: Method, loss: Loss, trainingIndices indices: [Int]
    ) throws(ODEError) {
        self.name = name
        self.system = system
        self.timeSpan = timeSpan
        self.integrator = integrator
        self.loss = loss
        let count = system.parameterNames.count
        for index in indices where !(0..<count).contains(index) {
            throw .dimensionMismatch(what: "trained parameter index of \(system.name)", expected: count, actual: index)
        }
        trainedParameters = indices
        // Building the problem validates y0, the parameters and the span once, up front.
        let problem = try ODEProblem(system: system, initialState: initialState, parameters: systemParameters, timeSpan: timeSpan)
        self.initialState = problem.initialState
        self.systemParameters = problem.parameters
        if !loss.observationTimes.isEmpty {
            try OutputSchedule.times(loss.observationTimes).validate(start: timeSpan.start, end: timeSpan.end)
        }
    }

    /// Names of θ's entries: trained system parameters, then the loss's parameters.
    public var parameterNames: [String] {
        let systemNames = system.parameterNames
        return trainedParameters.map { systemNames[$0] } + loss.parameterNames
    }

    public var parameterCount: Int { trainedParameters.count + loss.parameterNames.count }

    /// The split of θ into the full system parameter vector and the loss parameters.
    public func split(_ theta: [Double]) throws(ODEError) -> (system: [Double], loss: [Double]) {
        guard theta.count == parameterCount else {
            throw .dimensionMismatch(what: "trainable parameters of task \(name)", expected: parameterCount, actual: theta.count)
        }
        var full = systemParameters
        for (k, index) in trainedParameters.enumerated() { full[index] = theta[k] }
        return (full, Array(theta[trainedParameters.count...]))
    }

    /// The forward problem at θ.
    public func problem(at theta: [Double]) throws(ODEError) -> ODEProblem<System> {
        try ODEProblem(system: system, initialState: initialState, parameters: split(theta).system, timeSpan: timeSpan)
    }

    /// The running integrand handed to integrators, if the loss has one.
    public var runningIntegrand: RunningIntegrand? {
        guard loss.integrandCount > 0 else { return nil }
        let loss = self.loss
        return RunningIntegrand(count: loss.integrandCount, activeFrom: loss.integrandsActiveFrom) { t, y, r in loss.evaluateIntegrands(at: t, state: y, into: r) }
    }

    /// Runs the forward pass and returns the solution it produced (observations as output times).
    public func forward(at theta: [Double], spikes: SpikeDetection? = nil) throws(ODEError) -> Solution {
        let observations = loss.observationTimes
        return try integrator.solve(
            problem(at: theta), output: observations.isEmpty ? .finalState : .times(observations),
            spikes: spikes, integrand: runningIntegrand)
    }

    public func loss(at theta: [Double]) throws -> Double {
        try evaluate(at: theta).loss
    }

    public func evaluate(at theta: [Double]) throws -> ObjectiveEvaluation {
        if integratesRunningCostAsState { return try withQuadratureState().evaluate(at: theta) }
        let solution = try forward(at: theta)
        let value = loss.value(
            integrals: solution.integrals, observations: observations(of: solution), parameters: try split(theta).loss)
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(value) }
        return ObjectiveEvaluation(loss: value, rightHandSideEvaluations: solution.statistics.rightHandSideEvaluations)
    }

    /// Throws unless the forward pass computes in float64: `method` differentiates or differences
    /// the discrete map, and float32 rounding (about 6e−8 relative per step) is far above the scales
    /// it resolves. Forward-only methods with smoothing (ES) accept float32.
    public func requireDoublePrecision(by method: String) throws(TrainingError) {
        if let leapfrog = integrator as? Leapfrog, leapfrog.precision != .f64 {
            throw .unsupported("\(method) needs the float64 forward pass; \(name) runs the leapfrog in \(leapfrog.precision.rawValue): use precision f64, or es")
        }
    }

    /// The states at the observation times, row-major.
    public func observations(of solution: Solution) -> [Double] {
        loss.observationTimes.isEmpty ? [] : solution.states
    }
}
