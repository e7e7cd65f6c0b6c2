import NeuroODE

/// A spike-timing task (README "Gradients through events"): a spiking model with resets, started
/// from a fixed state at t = 0 and run to the horizon T, whose loss is ``SpikeTimingLoss`` on the
/// times of its spike event. θ is the selected model parameters.
///
/// The loss depends on event times, which no ``TaskLoss`` can express, so the task has its own
/// dispatch, ``estimate(with:at:iteration:)``: forward-only methods (ES, finite differences) use it
/// as an ``Objective``; the partial adjoint (dopri5 or CVODE forward) and BPTT (the forward pass of
/// any ``DifferentiableStepper`` that locates events, dopri5 or the leapfrog; every state stored)
/// run ``EventGradient`` (exact jumps at every reset); every other combination refuses with
/// ``TrainingError/eventsUnsupported(model:method:)``.
public struct SpikeTimingTask<System: DifferentiableEventSystem & VectorJacobianProviding, Method: Integrator>: Objective {
    /// Name used in messages.
    public let name: String
    /// The spiking model.
    public let system: System
    /// y(0): fixed, not trained (for a LIF neuron started at V = E_L, E_L's value at the point).
    public let initialState: [Double]
    /// The full parameter vector; entries not trained keep these values.
    public let systemParameters: [Double]
    /// Indices of the trained parameters.
    public let trainedParameters: [Int]
    /// T (model time unit, ms): the span is [0, T].
    public let horizon: Double
    /// The forward integrator (dopri5 or CVODE for the adjoint, dopri5 or the leapfrog for BPTT:
    /// each locates events inside the step).
    public let integrator: Method
    /// The loss on the spike times.
    public let loss: SpikeTimingLoss

    /// A task training the named parameters of `system`; `nil` state or parameters take the system's defaults.
    public init(
        name: String, system: System, initialState: [Double]? = nil, systemParameters: [Double]? = nil,
        horizon: Double, integrator: Method, loss: SpikeTimingLoss, training names: [String]
    ) throws(ODEError) {
        self.name = name
        self.system = system
        self.horizon = horizon
        self.integrator = integrator
        self.loss = loss
        var indices: [Int] = []
        for parameterName in names { indices.append(try system.parameterIndex(named: parameterName)) }
        trainedParameters = indices
        // Validates y0, θ and the span once, up front.
        let problem = try ODEProblem(system: system, initialState: initialState, parameters: systemParameters, timeSpan: (0, horizon))
        guard horizon > 0 else { throw .invalidTimeSpan(start: 0, end: horizon, reason: "the horizon must be positive") }
        self.initialState = problem.initialState
        self.systemParameters = problem.parameters
    }

    /// Names of θ's entries.
    public var parameterNames: [String] {
        let all = system.parameterNames
        return trainedParameters.map { all[$0] }
    }

    public var parameterCount: Int { trainedParameters.count }

    /// The forward problem at θ.
    public func problem(at theta: [Double]) throws(ODEError) -> ODEProblem<System> {
        guard theta.count == parameterCount else {
            throw .dimensionMismatch(what: "trainable parameters of task \(name)", expected: parameterCount, actual: theta.count)
        }
        var full = systemParameters
        for (k, index) in trainedParameters.enumerated() { full[index] = theta[k] }
        return try ODEProblem(system: system, initialState: initialState, parameters: full, timeSpan: (0, horizon))
    }

    /// The first K spike times at θ (missing ones replaced by T).
    public func spikeTimes(at theta: [Double]) throws(ODEError) -> [Double] {
        loss.spikeTimes(try integrator.solve(problem(at: theta), output: .finalState).events, horizonEnd: horizon)
    }

    public func loss(at theta: [Double]) throws -> Double {
        try evaluate(at: theta).loss
    }

    public func evaluate(at theta: [Double]) throws -> ObjectiveEvaluation {
        let solution = try integrator.solve(problem(at: theta), output: .finalState)
        let value = loss.value(spikeTimes: loss.spikeTimes(solution.events, horizonEnd: horizon))
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(value) }
        return ObjectiveEvaluation(loss: value, rightHandSideEvaluations: solution.statistics.rightHandSideEvaluations)
    }

    /// The loss and gradient at θ by `method`: ES and finite differences through forward solves;
    /// the partial adjoint (of a dopri5 forward pass, its `backwardIntegrator` integrating between
    /// the events; of a CVODE forward pass, CVODES' adjoint module restarted at each event) and BPTT without checkpoints (through the steps of a
    /// ``DifferentiableStepper`` that locates events: dopri5, the leapfrog) through
    /// ``EventGradient``. The full adjoint, the partial
    /// adjoint of a leapfrog forward pass and checkpointed BPTT refuse.
    public func estimate(with method: any GradientMethod, at theta: [Double], iteration: Int) throws -> GradientEstimate {
        if let bptt = method as? BackpropagationThroughTime, bptt.checkpointing == .none,
           let stepper = integrator as? any DifferentiableStepper, stepper.locatesEvents {
            return try EventGradient.estimate(self, at: theta, between: .steps(stepper))
        }
        switch method {
        case let strategy as EvolutionStrategy:
            return try strategy.estimate(objective: self, at: theta, iteration: iteration)
        case let differences as FiniteDifferences:
            return try differences.estimate(self, at: theta)
        case let adjoint as AdjointMethod where adjoint.variant == .partial && (integrator is DormandPrince || integrator is CVODE):
            return try EventGradient.estimate(self, at: theta, between: adjoint.betweenEvents(of: integrator))
        default:
            throw TrainingError.eventsUnsupported(model: system.name, method: "\(method.name) with \(integrator.name)")
        }
    }
}
