import CSundials

/// Continuous adjoint sensitivities through CVODES' adjoint module: the partial adjoint (SCIENCE.md
/// "Gradient methods") for stiff problems.
///
/// For a loss L = Φ(Q, Y) with running integrals Q = ∫_{t₀}^T r(t, y) dt and observations
/// Y = (y(t₁), …, y(t_K)), the adjoint λ solves, backward from λ(T) = 0,
///
///     λ' = −(∂f/∂y)ᵀλ − (∂r/∂y)ᵀ ∂Φ/∂Q,     λ(t_k⁻) = λ(t_k⁺) + ∂Φ/∂y(t_k),
///
/// and then dL/dy₀ = λ(t₀) and dL/dθ = ∫_{t₀}^T λᵀ ∂f/∂θ dt (plus Φ's own parameter terms, which
/// the caller adds).
///
/// ``forward(_:integrand:observationTimes:)`` integrates the system with CVODE (the same method,
/// tolerances, dense Newton solver and Jacobian as ``CVODE``), storing a checkpoint every
/// ``Options/checkpointInterval`` steps (`CVodeAdjInit`, `CVodeF`) and integrating the running
/// integrands as CVODES quadratures, so Q is as accurate as the solve rather than a trapezoid sum
/// over steps. ``CVODESAdjointPass/backward(integralCotangents:observationCotangents:reportTimes:)``
/// then solves the adjoint ODE with CVODES' backward problem: the forward solution between
/// checkpoints is recomputed and read by cubic Hermite interpolation, the backward Newton matrix
/// is −(∂f/∂y)ᵀ from the system's Jacobian when it provides one (difference quotients otherwise),
/// and the parameter gradient is a backward quadrature that takes part in the error test, as in
/// SUNDIALS' `cvsRoberts_ASAi_dns` example. Observation times split the backward run into
/// segments: at each, λ jumps and the backward problem is re-initialised (`CVodeReInitB`).
///
/// Memory: the checkpoints (a Nordsieck history each) plus the Hermite data of one interval
/// (2·(interval + 1) states), instead of every step of the trajectory.
public struct CVODESAdjoint: Sendable {
    /// Settings of the adjoint machinery beyond the forward integrator's.
    public struct Options: Sendable, Equatable {
        /// Forward steps between two checkpoints (`CVodeAdjInit`'s `steps`). Larger intervals
        /// store fewer checkpoints but hold more Hermite data at a time.
        public var checkpointInterval: Int
        /// Absolute tolerance of the forward quadratures Q.
        public var integralAbsoluteTolerance: Double
        /// Absolute tolerance of the adjoint λ.
        public var adjointAbsoluteTolerance: Double
        /// Absolute tolerance of the parameter-gradient quadrature.
        public var gradientAbsoluteTolerance: Double
        /// One absolute tolerance per system parameter; overrides ``gradientAbsoluteTolerance``.
        /// Gradients with respect to parameters of very different sizes (ROBER's k1 = 0.04 and
        /// k2 = 3·10⁷) differ as much, the other way round: a tolerance ∝ 1/|θᵢ| treats them alike.
        public var gradientAbsoluteTolerances: [Double]?
        /// Whether the quadratures (Q forward, the gradient backward) take part in the error test.
        /// On by default: the gradient is what the caller wants accurate.
        public var quadratureErrorControl: Bool
        /// Step budget of one backward pass; `nil` uses the forward integrator's.
        public var backwardMaxSteps: Int?

        /// The defaults are `cvsRoberts_ASAi_dns`'s settings: a checkpoint every 150 steps,
        /// quadrature tolerance 1e-6, adjoint tolerance 1e-8, quadratures in the error test. They
        /// suit problems whose loss integrals and adjoints are of order one or larger; scale them
        /// to the problem otherwise. All relative tolerances are the forward integrator's.
        public init(
            checkpointInterval: Int = 150, integralAbsoluteTolerance: Double = 1e-6,
            adjointAbsoluteTolerance: Double = 1e-8, gradientAbsoluteTolerance: Double = 1e-6,
            gradientAbsoluteTolerances: [Double]? = nil, quadratureErrorControl: Bool = true, backwardMaxSteps: Int? = nil
        ) {
            self.checkpointInterval = checkpointInterval
            self.integralAbsoluteTolerance = integralAbsoluteTolerance
            self.adjointAbsoluteTolerance = adjointAbsoluteTolerance
            self.gradientAbsoluteTolerance = gradientAbsoluteTolerance
            self.gradientAbsoluteTolerances = gradientAbsoluteTolerances
            self.quadratureErrorControl = quadratureErrorControl
            self.backwardMaxSteps = backwardMaxSteps
        }

        /// Rejects out-of-range settings for a system with `parameterCount` parameters, naming the value.
        public func validate(parameterCount: Int) throws(ODEError) {
            guard checkpointInterval >= 1 else {
                throw .invalidTolerance(name: "checkpoint interval", value: Double(checkpointInterval))
            }
            for (name, value) in [
                ("integral absolute tolerance", integralAbsoluteTolerance),
                ("adjoint absolute tolerance", adjointAbsoluteTolerance),
                ("gradient absolute tolerance", gradientAbsoluteTolerance),
            ] where !(value.isFinite && value > 0) {
                throw .invalidTolerance(name: name, value: value)
            }
            if let tolerances = gradientAbsoluteTolerances {
                guard tolerances.count == parameterCount else {
                    throw .dimensionMismatch(what: "gradient absolute tolerance vector", expected: parameterCount, actual: tolerances.count)
                }
                for (i, value) in tolerances.enumerated() where !(value.isFinite && value > 0) {
                    throw .invalidTolerance(name: "gradient absolute tolerance [\(i)]", value: value)
                }
            }
            if let steps = backwardMaxSteps, steps < 1 {
                throw .invalidTolerance(name: "maximum number of backward steps", value: Double(steps))
            }
        }
    }

    /// The forward integrator: method, relative and absolute tolerances, step budget, maximum step.
    public var integrator: CVODE
    /// Checkpointing, quadrature and adjoint tolerances, and the backward step budget.
    public var options: Options

    /// Settings only; ``forward(_:integrand:observationTimes:)`` validates them before it allocates.
    public init(integrator: CVODE, options: Options = Options()) {
        self.integrator = integrator
        self.options = options
    }

    /// Integrates `problem` forward, storing checkpoints and recording Q and the observations.
    ///
    /// Everything is validated before any C memory exists: the settings, the span (it must run
    /// forward) and the observation times (strictly increasing, inside the span).
    public func forward<System: VectorJacobianProviding>(
        _ problem: ODEProblem<System>, integrand: DifferentiableRunningIntegrand? = nil, observationTimes: [Double] = []
    ) throws(ODEError) -> CVODESAdjointPass {
        try integrator.validate(dimension: problem.system.dimension)
        try options.validate(parameterCount: problem.parameters.count)
        guard problem.endTime > problem.startTime else {
            throw .invalidTimeSpan(start: problem.startTime, end: problem.endTime, reason: "the CVODES adjoint needs a forward span")
        }
        if !observationTimes.isEmpty {
            try OutputSchedule.times(observationTimes).validate(start: problem.startTime, end: problem.endTime)
        }
        if let integrand, integrand.count < 1 {
            throw .dimensionMismatch(what: "running integrand", expected: 1, actual: integrand.count)
        }
        return try CVODESAdjointPass(settings: self, problem: problem, integrand: integrand, observationTimes: observationTimes)
    }
}

/// Running integrands r(t, y) together with their pullback: the running part of an adjoint cost.
public struct DifferentiableRunningIntegrand: Sendable {
    /// Adds r̄ᵀ ∂r/∂y to the state cotangent: (t, y, r̄, ȳ). Must not allocate.
    public typealias Pullback = @Sendable (
        Double, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>
    ) -> Void

    /// The running costs r(t, y) integrated by the forward quadratures.
    public let integrand: RunningIntegrand
    /// The pullback of `integrand` with respect to the state.
    public let pullback: Pullback

    /// Pairs running costs with their state pullback.
    public init(integrand: RunningIntegrand, pullback: @escaping Pullback) {
        self.integrand = integrand
        self.pullback = pullback
    }

    /// The number of running costs.
    public var count: Int { integrand.count }
}

/// The adjoint at one time of the backward pass.
public struct CVODESAdjointSample: Sendable, Equatable {
    /// The time of the sample (a requested report time).
    public var time: Double
    /// λ(t), after any jump at t (the value the backward integration continues from).
    public var cotangent: [Double]
    /// The forward solution y(t), read from CVODES' interpolation of the recomputed trajectory.
    public var state: [Double]
}

/// Work and memory of one adjoint gradient.
public struct CVODESAdjointStatistics: Sendable, Equatable {
    /// Counters of the forward (checkpointing) solve.
    public var forward = SolverStatistics()
    /// Counters of the backward problem over all its segments.
    public var backward = SolverStatistics()
    /// Checkpoints stored by the forward pass, not counting the one at t₀.
    public var checkpoints = 0
    /// Bytes of solver data held for the backward pass: every checkpoint's Nordsieck history
    /// (state and forward quadratures) and the Hermite data (y and y' at each step) of one
    /// checkpoint interval. Computed from the checkpoints' orders as CVODES lays them out;
    /// vector payloads only, so a slight underestimate.
    public var checkpointBytes = 0
    /// Evaluations of the running integrand by the forward quadratures.
    public var forwardQuadratureEvaluations = 0
    /// Evaluations of the backward quadrature integrand λᵀ ∂f/∂θ (and the running-cost pullback).
    public var backwardQuadratureEvaluations = 0

    /// All counters zero.
    public init() {}
}

/// What a backward pass returns.
public struct CVODESAdjointGradient: Sendable {
    /// λ(t₀) = dL/dy₀ (the part of the loss that flows through the trajectory).
    public var initialCotangent: [Double]
    /// ∫ λᵀ ∂f/∂θ dt over the span: dL/dθ for every system parameter, in the system's order.
    public var parameterGradient: [Double]
    /// λ and y at the requested report times, from T down to t₀.
    public var samples: [CVODESAdjointSample]
    /// Counters of the forward and backward solves and the checkpoint memory.
    public var statistics: CVODESAdjointStatistics
}

extension CVODE {
    /// The session settings this integrator stands for.
    var sessionConfiguration: CVODESession.Configuration {
        .init(method: method, relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance,
              absoluteTolerances: absoluteTolerances, maxSteps: maxSteps, maxStepSize: maxStepSize)
    }
}
