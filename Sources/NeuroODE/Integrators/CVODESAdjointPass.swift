import CSundials

/// A forward solve recorded in CVODES checkpoints, ready for backward passes.
///
/// Created by ``CVODESAdjoint/forward(_:integrand:observationTimes:)``, which runs the forward
/// integration at once. It owns all the C memory of the adjoint (through its `CVODESession`):
/// the forward and backward CVODE memories, the checkpoints, the quadrature and adjoint vectors
/// and the backward dense solver, all freed when the pass is released, whatever happened.
///
/// ``backward(integralCotangents:observationCotangents:reportTimes:)`` may be called more than
/// once, with different seeds: each call re-initialises the backward problem at T and reuses the
/// stored checkpoints (as SUNDIALS' example does for its second backward run).
public final class CVODESAdjointPass {
    /// The model's name, for errors raised after setup.
    private let modelName: String
    /// Q = ∫ r dt over the span, from the forward quadratures (empty without an integrand).
    public let integrals: [Double]
    /// The times at which ``observations`` were recorded (strictly increasing, inside the span).
    public let observationTimes: [Double]
    /// y at the observation times, row-major.
    public let observations: [Double]
    /// y(T), the state at the end of the span.
    public let finalState: [Double]
    /// t₀.
    public let startTime: Double
    /// T (> t₀: the adjoint runs only on forward spans).
    public let endTime: Double

    private let session: CVODESession
    private let adjoint: CVODESAdjointCallbacks
    private let forwardStatistics: CVODESAdjointStatistics
    private let backwardMaxSteps: Int
    /// The backward problem's index in CVODES and the vectors it reads and writes.
    private var which: Int32 = 0
    private var lambda = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)
    private var lambdaVector: N_Vector?
    private var gradient = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)
    private var gradientVector: N_Vector?
    /// Receives the interpolated forward state for ``CVODESAdjointSample``s.
    private var stateVector: N_Vector?

    init<System: VectorJacobianProviding>(
        settings: CVODESAdjoint, problem: ODEProblem<System>, integrand: DifferentiableRunningIntegrand?,
        observationTimes: [Double]
    ) throws(ODEError) {
        let system = problem.system
        modelName = system.name
        let callbacks = CVODECallbacks(system: system, parameters: problem.parameters)
        callbacks.integrand = integrand?.integrand
        session = try CVODESession(
            callbacks: callbacks, initialState: problem.initialState, startTime: problem.startTime,
            endTime: problem.endTime, configuration: settings.integrator.sessionConfiguration)
        adjoint = CVODESAdjointCallbacks(system: system, forward: callbacks, integrand: integrand)
        startTime = problem.startTime
        endTime = problem.endTime
        self.observationTimes = observationTimes
        backwardMaxSteps = settings.options.backwardMaxSteps ?? settings.integrator.maxSteps

        let recorded: (integrals: [Double], observations: [Double], statistics: CVODESAdjointStatistics)
        do throws(ODEError) {
            recorded = try Self.runForward(
                session, settings: settings, integrandCount: integrand?.count ?? 0, initialState: problem.initialState,
                observationTimes: observationTimes)
        } catch let .nonFiniteState(time, step, nil) {
            throw .nonFiniteState(time: time, step: step, model: system.name)
        }
        integrals = recorded.integrals
        observations = recorded.observations
        finalState = Array(session.state)
        forwardStatistics = recorded.statistics
        try createBackwardProblem(settings: settings)
    }

    // MARK: Forward pass

    private static func runForward(
        _ session: CVODESession, settings: CVODESAdjoint, integrandCount m: Int, initialState: [Double],
        observationTimes: [Double]
    ) throws(ODEError) -> (integrals: [Double], observations: [Double], statistics: CVODESAdjointStatistics) {
        let memory = session.memory
        let n = session.dimension
        let t0 = session.startTime, tEnd = session.endTime
        let rtol = settings.integrator.relativeTolerance
        var quadrature: N_Vector?
        if m > 0 {
            let q = try session.vector(length: m, at: t0)
            quadrature = q
            try session.check(CVodeQuadInit(memory, cvodeQuadratureFunction, q), "CVodeQuadInit", at: t0)
            try session.check(
                CVodeSetQuadErrCon(memory, settings.options.quadratureErrorControl ? 1 : 0), "CVodeSetQuadErrCon", at: t0)
            try session.check(
                CVodeQuadSStolerances(memory, rtol, settings.options.integralAbsoluteTolerance), "CVodeQuadSStolerances", at: t0)
        }
        try session.check(CVodeAdjInit(memory, settings.options.checkpointInterval, CV_HERMITE), "CVodeAdjInit", at: t0)

        // CVodeF in normal mode to each observation time (it interpolates there and carries on
        // from the step beyond), then to T, where the stop time set by the session ends it.
        var observations = [Double](repeating: 0, count: observationTimes.count * n)
        var targets: [(time: Double, index: Int?)] = []
        for (k, time) in observationTimes.enumerated() {
            if time == t0 {
                observations.replaceSubrange((k * n)..<((k + 1) * n), with: initialState)
            } else {
                targets.append((time, k))
            }
        }
        if targets.last?.time != tEnd { targets.append((tEnd, nil)) }
        var t = t0
        var checkpoints: Int32 = 0
        for target in targets {
            // CVodeF's budget counts steps per call: give each call what is left of the total.
            let remaining = session.maxSteps - session.statistics.steps
            guard remaining > 0 else { throw .stepBudgetExhausted(time: t, maxSteps: session.maxSteps) }
            try session.check(CVodeSetMaxNumSteps(memory, remaining), "CVodeSetMaxNumSteps", at: t)
            let flag = CVodeF(memory, target.time, session.stateVector, &t, CV_NORMAL, &checkpoints)
            guard flag >= 0 else {
                CVodeGetCurrentTime(memory, &t)
                throw session.failure(flag, at: t)
            }
            session.callbacks.nonFiniteTime = nil
            if let k = target.index {
                for i in 0..<n { observations[k * n + i] = session.state[i] }
            }
        }

        var integrals = [Double](repeating: 0, count: m)
        if let quadrature {
            var tq = 0.0
            try session.check(CVodeGetQuad(memory, &tq, quadrature), "CVodeGetQuad", at: t)
            for i in 0..<m { integrals[i] = nde_nvector_data(quadrature)[i] }
            if integrals.contains(where: { !$0.isFinite }) {
                throw .nonFiniteState(time: t, step: session.statistics.steps)
            }
        }
        var statistics = CVODESAdjointStatistics()
        statistics.forward = session.statistics
        statistics.checkpoints = Int(checkpoints)
        statistics.checkpointBytes = try checkpointBytes(
            session, count: Int(checkpoints), stateLength: n,
            quadratureLength: m > 0 && settings.options.quadratureErrorControl ? m : 0,
            maximumOrder: settings.integrator.method == .bdf ? 5 : 12, interval: settings.options.checkpointInterval)
        if m > 0 { CVodeGetQuadNumRhsEvals(memory, &statistics.forwardQuadratureEvaluations) }
        return (integrals, observations, statistics)
    }

    /// Bytes CVODES holds for the backward pass. A checkpoint of order q keeps the Nordsieck
    /// vectors z₀…z_q, plus z_qmax when q < qmax (for a hot restart that raises the order); the
    /// one at t₀ keeps two. Quadratures in the error test are checkpointed alike. The Hermite
    /// module holds y and y' at each of the interval + 1 points of the current interval.
    private static func checkpointBytes(
        _ session: CVODESession, count: Int, stateLength n: Int, quadratureLength m: Int, maximumOrder: Int, interval: Int
    ) throws(ODEError) -> Int {
        var records = [CVadjCheckPointRec](repeating: CVadjCheckPointRec(), count: count + 1)
        try session.check(CVodeGetAdjCheckPointsInfo(session.memory, &records), "CVodeGetAdjCheckPointsInfo", at: session.endTime)
        var vectors = 0
        for record in records {
            let q = Int(record.order)
            vectors += record.t0 == session.startTime && record.nstep == 0 ? 2 : q + 1 + (q < maximumOrder ? 1 : 0)
        }
        let doubles = vectors * (n + m) + (interval + 1) * 2 * n
        return doubles * MemoryLayout<Double>.stride
    }

    // MARK: Backward problem

    private func createBackwardProblem(settings: CVODESAdjoint) throws(ODEError) {
        let memory = session.memory
        let n = session.dimension, p = adjoint.parameterCount
        let tEnd = endTime
        let rtol = settings.integrator.relativeTolerance
        try session.check(
            CVodeCreateB(memory, settings.integrator.method == .bdf ? CV_BDF : CV_ADAMS, &which), "CVodeCreateB", at: tEnd)
        let yB = try session.vector(length: n, at: tEnd)
        lambdaVector = yB
        lambda = UnsafeMutableBufferPointer(start: nde_nvector_data(yB), count: n)
        stateVector = try session.vector(length: n, at: tEnd)
        try session.check(CVodeInitB(memory, which, cvodesAdjointRightHandSide, tEnd, yB), "CVodeInitB", at: tEnd)
        try session.check(
            CVodeSStolerancesB(memory, which, rtol, settings.options.adjointAbsoluteTolerance), "CVodeSStolerancesB", at: tEnd)
        try session.check(
            CVodeSetUserDataB(memory, which, Unmanaged.passUnretained(adjoint).toOpaque()), "CVodeSetUserDataB", at: tEnd)
        try session.check(CVodeSetMaxNumStepsB(memory, which, backwardMaxSteps), "CVodeSetMaxNumStepsB", at: tEnd)
        if let hmax = settings.integrator.maxStepSize {
            try session.check(CVodeSetMaxStepB(memory, which, hmax), "CVodeSetMaxStepB", at: tEnd)
        }
        let (solver, matrix) = try session.denseLinearSolver(for: yB, at: tEnd)
        try session.check(CVodeSetLinearSolverB(memory, which, solver, matrix), "CVodeSetLinearSolverB", at: tEnd)
        if adjoint.hasJacobian {
            try session.check(CVodeSetJacFnB(memory, which, cvodesAdjointJacobian), "CVodeSetJacFnB", at: tEnd)
        }
        // A system without parameters has no gradient quadrature (CVODES refuses empty vectors).
        guard p > 0 else { return }
        let qB = try session.vector(length: p, at: tEnd)
        gradientVector = qB
        gradient = UnsafeMutableBufferPointer(start: nde_nvector_data(qB), count: p)
        try session.check(CVodeQuadInitB(memory, which, cvodesAdjointQuadrature, qB), "CVodeQuadInitB", at: tEnd)
        try session.check(
            CVodeSetQuadErrConB(memory, which, settings.options.quadratureErrorControl ? 1 : 0), "CVodeSetQuadErrConB", at: tEnd)
        if let tolerances = settings.options.gradientAbsoluteTolerances {
            let atol = try session.vector(length: p, at: tEnd)
            for i in 0..<p { nde_nvector_data(atol)[i] = tolerances[i] }
            try session.check(CVodeQuadSVtolerancesB(memory, which, rtol, atol), "CVodeQuadSVtolerancesB", at: tEnd)
        } else {
            try session.check(
                CVodeQuadSStolerancesB(memory, which, rtol, settings.options.gradientAbsoluteTolerance),
                "CVodeQuadSStolerancesB", at: tEnd)
        }
    }

    /// The backward problem's own CVODE memory (for counters and its current time).
    private var backwardMemory: UnsafeMutableRawPointer? { CVodeGetAdjCVodeBmem(session.memory, which) }

    // MARK: Backward pass

    /// Solves the adjoint backward from T to t₀ and returns λ(t₀) and the parameter gradient.
    ///
    /// - Parameters:
    ///   - integralCotangents: ∂Φ/∂Q, one per running integrand (empty without one).
    ///   - observationCotangents: ∂Φ/∂y(t_k), row-major, one state per observation time (empty
    ///     without observations).
    ///   - reportTimes: strictly increasing times in [t₀, T] at which λ and y are also returned
    ///     (they do not split the backward run).
    public func backward(
        integralCotangents: [Double] = [], observationCotangents: [Double] = [], reportTimes: [Double] = []
    ) throws(ODEError) -> CVODESAdjointGradient {
        let n = session.dimension
        let t0 = startTime, tEnd = endTime
        guard integralCotangents.count == adjoint.integralCotangents.count else {
            throw .dimensionMismatch(what: "integral cotangents", expected: adjoint.integralCotangents.count, actual: integralCotangents.count)
        }
        guard observationCotangents.count == observationTimes.count * n else {
            throw .dimensionMismatch(what: "observation cotangents", expected: observationTimes.count * n, actual: observationCotangents.count)
        }
        // The seeds are the backward problem's initial state and jumps: name a non-finite one.
        for (i, value) in (integralCotangents + observationCotangents).enumerated() where !value.isFinite {
            throw .nonFiniteInitialState(index: i, value: value)
        }
        if !reportTimes.isEmpty {
            try OutputSchedule.times(reportTimes).validate(start: t0, end: tEnd)
        }
        for i in integralCotangents.indices { adjoint.integralCotangents[i] = integralCotangents[i] }
        adjoint.nonFiniteTime = nil

        // Stops of the backward run, from T down to t₀: observation times (jump, then restart)
        // and report times (sample only).
        struct Stop { var time: Double; var observation: Int?; var report: Bool }
        var stops: [Stop] = observationTimes.enumerated().map { Stop(time: $0.element, observation: $0.offset, report: false) }
        for time in reportTimes {
            if let k = stops.firstIndex(where: { $0.time == time }) { stops[k].report = true }
            else { stops.append(Stop(time: time, observation: nil, report: true)) }
        }
        if !stops.contains(where: { $0.time == t0 }) { stops.append(Stop(time: t0, observation: nil, report: false)) }
        stops.sort { $0.time > $1.time }

        lambda.update(repeating: 0)
        gradient.update(repeating: 0)
        var samples: [CVODESAdjointSample] = []
        var banked = SolverStatistics()
        var bankedQuadrature = 0
        func bankCounters() {
            banked.add(CVODESession.counters(of: backwardMemory, roots: false))
            var evaluations = 0
            if gradientVector != nil { CVodeGetQuadNumRhsEvals(backwardMemory, &evaluations) }
            bankedQuadrature += evaluations
        }
        var current = tEnd
        var started = false
        for stop in stops {
            if stop.time < current {
                if !started {
                    try restart(at: tEnd)
                    started = true
                }
                try integrateBackward(to: stop.time, stepsSoFar: banked.steps)
                current = stop.time
            }
            if let k = stop.observation {
                for i in 0..<n { lambda[i] += observationCotangents[k * n + i] }
            }
            if stop.report {
                samples.append(CVODESAdjointSample(time: stop.time, cotangent: Array(lambda), state: try forwardState(at: stop.time)))
            }
            // A jump changes λ discontinuously: the multistep history is void, so restart there.
            if stop.observation != nil, stop.time > t0 {
                if started { bankCounters() }
                try restart(at: stop.time)
                started = true
            }
        }
        if started { bankCounters() }

        var statistics = forwardStatistics
        statistics.backward = banked
        statistics.backwardQuadratureEvaluations = bankedQuadrature
        return CVODESAdjointGradient(
            initialCotangent: Array(lambda), parameterGradient: Array(gradient), samples: samples, statistics: statistics)
    }

    /// Re-initialises the backward problem at `t` from the current λ and gradient.
    private func restart(at t: Double) throws(ODEError) {
        try session.check(CVodeReInitB(session.memory, which, t, lambdaVector), "CVodeReInitB", at: t)
        if let gradientVector {
            try session.check(CVodeQuadReInitB(session.memory, which, gradientVector), "CVodeQuadReInitB", at: t)
        }
    }

    /// One backward segment to `t`, leaving λ(t) and the gradient quadrature in the vectors.
    private func integrateBackward(to t: Double, stepsSoFar: Int) throws(ODEError) {
        let memory = session.memory
        let remaining = backwardMaxSteps - stepsSoFar
        guard remaining > 0 else { throw .stepBudgetExhausted(time: t, maxSteps: backwardMaxSteps) }
        // The budget is per internal CVode call, and CVodeB makes one per checkpoint interval:
        // the total is checked again below.
        try session.check(CVodeSetMaxNumStepsB(memory, which, remaining), "CVodeSetMaxNumStepsB", at: t)
        let flag = CVodeB(memory, t, CV_NORMAL)
        guard flag >= 0 else { throw backwardFailure(flag) }
        var reached = 0.0
        try session.check(CVodeGetB(memory, which, &reached, lambdaVector), "CVodeGetB", at: t)
        if let gradientVector {
            try session.check(CVodeGetQuadB(memory, which, &reached, gradientVector), "CVodeGetQuadB", at: t)
        }
        var steps = 0
        CVodeGetNumSteps(backwardMemory, &steps)
        if stepsSoFar + steps > backwardMaxSteps {
            throw .stepBudgetExhausted(time: t, maxSteps: backwardMaxSteps)
        }
        adjoint.nonFiniteTime = nil
    }

    /// The forward solution at `t`, interpolated from the data of the current checkpoint interval.
    private func forwardState(at t: Double) throws(ODEError) -> [Double] {
        if t == endTime { return finalState }
        try session.check(CVodeGetAdjY(session.memory, t, stateVector), "CVodeGetAdjY", at: t)
        return Array(UnsafeBufferPointer(start: nde_nvector_data(stateVector), count: session.dimension))
    }

    /// The most specific error for a failed `CVodeB`: a callback's own error first (backward,
    /// then the forward recomputation), then a non-finite adjoint, the step budget, CVODES' flag.
    private func backwardFailure(_ flag: Int32) -> ODEError {
        var t = startTime
        CVodeGetCurrentTime(backwardMemory, &t)
        if let failure = adjoint.failure { return failure }
        if let failure = session.callbacks.failure { return failure }
        if let time = adjoint.nonFiniteTime {
            var steps = 0
            CVodeGetNumSteps(backwardMemory, &steps)
            return .nonFiniteState(time: time, step: steps + 1, model: modelName)
        }
        if flag == CV_TOO_MUCH_WORK { return .stepBudgetExhausted(time: t, maxSteps: backwardMaxSteps) }
        return .solverFailure(flag: flag, flagName: CVODESession.flagName(flag), time: t, message: session.callbacks.message)
    }
}
