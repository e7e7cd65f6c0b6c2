import CSundials
import Synchronization

/// One CVODE integration: owns the SUNDIALS context, the CVODE memory, the state and tolerance
/// vectors, the dense matrix and linear solver, and frees all of them in `deinit`, whether the
/// solve finished, threw, or failed half-way through set-up.
///
/// Every SUNDIALS return flag is checked and turned into an ``ODEError`` at the call that produced
/// it; nothing from C escapes as a raw code or a printed message.
final class CVODESession {
    /// Sessions alive in the process. Tests use it (and ``Ledger``) to prove that no path leaks
    /// C memory.
    static let liveCount = Atomic<Int>(0)

    /// Counts the sessions created while it is bound (``$ledger``) and still alive. Unlike the
    /// process-wide ``liveCount`` it is immune to solves running concurrently elsewhere.
    final class Ledger: Sendable {
        let live = Atomic<Int>(0)
        let created = Atomic<Int>(0)
        init() {}
    }

    @TaskLocal static var ledger: Ledger?

    let callbacks: CVODECallbacks
    let dimension: Int
    let maxSteps: Int
    let startTime: Double
    let endTime: Double
    private let ledger: Ledger?

    // Optional so that `deinit` can free exactly what a failed initialiser managed to allocate.
    // Readable inside the module so that the CVODES adjoint can extend this session.
    private(set) var context: SUNContext?
    private(set) var memory: UnsafeMutableRawPointer?
    private(set) var stateVector: N_Vector?
    private var scratchVector: N_Vector?
    private var toleranceVector: N_Vector?
    private var matrix: SUNMatrix?
    private var linearSolver: SUNLinearSolver?
    /// Counters of the segments before the latest re-initialisation (CVodeReInit zeroes CVODE's own).
    private var previousSegments = SolverStatistics()
    private var rootsFound: [Int32]
    /// Frees SUNDIALS objects that extensions (the adjoint's quadrature and backward problem)
    /// created on this session's context, in reverse order of registration.
    private var releases: [() -> Void] = []

    /// The solver's state vector y, written by CVODE after every call.
    private(set) var state = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)
    /// A second vector for interpolated outputs (CVodeGetDky).
    private(set) var scratch = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)

    struct Configuration {
        var method: CVODE.Method
        var relativeTolerance: Double
        var absoluteTolerance: Double
        var absoluteTolerances: [Double]?
        var maxSteps: Int
        var maxStepSize: Double?
    }

    init(
        callbacks: CVODECallbacks, initialState: [Double], startTime t0: Double, endTime tEnd: Double,
        configuration c: Configuration
    ) throws(ODEError) {
        self.callbacks = callbacks
        dimension = callbacks.dimension
        maxSteps = c.maxSteps
        startTime = t0
        endTime = tEnd
        ledger = Self.ledger
        rootsFound = Array(repeating: 0, count: callbacks.eventCount)
        Self.liveCount.add(1, ordering: .relaxed)
        ledger?.live.add(1, ordering: .relaxed)
        ledger?.created.add(1, ordering: .relaxed)

        let n = sunindextype(dimension)
        func require<T>(_ pointer: T?, _ function: String) throws(ODEError) -> T {
            guard let pointer else {
                throw .solverFailure(flag: CV_MEM_FAIL, flagName: "CV_MEM_FAIL", time: t0,
                                     message: "\(function) could not allocate memory")
            }
            return pointer
        }

        var newContext: SUNContext?
        try check(SUNContext_Create(nil, &newContext), "SUNContext_Create", at: t0)
        let context = try require(newContext, "SUNContext_Create")
        self.context = context
        let memory = try require(CVodeCreate(c.method == .bdf ? CV_BDF : CV_ADAMS, context), "CVodeCreate")
        self.memory = memory
        let userData = Unmanaged.passUnretained(callbacks).toOpaque()
        try check(CVodeSetErrHandlerFn(memory, cvodeErrorHandler, userData), "CVodeSetErrHandlerFn", at: t0)
        try check(CVodeSetUserData(memory, userData), "CVodeSetUserData", at: t0)

        let y = try require(N_VNew_Serial(n, context), "N_VNew_Serial")
        stateVector = y
        state = UnsafeMutableBufferPointer(start: nde_nvector_data(y), count: dimension)
        _ = initialState.withUnsafeBufferPointer { state.update(fromContentsOf: $0) }
        let dky = try require(N_VNew_Serial(n, context), "N_VNew_Serial")
        scratchVector = dky
        scratch = UnsafeMutableBufferPointer(start: nde_nvector_data(dky), count: dimension)

        try check(CVodeInit(memory, cvodeRightHandSide, t0, y), "CVodeInit", at: t0)
        if let tolerances = c.absoluteTolerances {
            let atol = try require(N_VNew_Serial(n, context), "N_VNew_Serial")
            toleranceVector = atol
            _ = tolerances.withUnsafeBufferPointer {
                UnsafeMutableBufferPointer(start: nde_nvector_data(atol), count: dimension).update(fromContentsOf: $0)
            }
            try check(CVodeSVtolerances(memory, c.relativeTolerance, atol), "CVodeSVtolerances", at: t0)
        } else {
            try check(CVodeSStolerances(memory, c.relativeTolerance, c.absoluteTolerance), "CVodeSStolerances", at: t0)
        }

        let a = try require(SUNDenseMatrix(n, n, context), "SUNDenseMatrix")
        matrix = a
        let solver = try require(SUNLinSol_Dense(y, a, context), "SUNLinSol_Dense")
        linearSolver = solver
        try check(CVodeSetLinearSolver(memory, solver, a), "CVodeSetLinearSolver", at: t0)
        if callbacks.hasJacobian {
            try check(CVodeSetJacFn(memory, cvodeJacobian), "CVodeSetJacFn", at: t0)
        }

        // CVODE's budget is per call; in one-step mode the driver enforces the total itself, so
        // this only matters as a second line of defence.
        try check(CVodeSetMaxNumSteps(memory, c.maxSteps), "CVodeSetMaxNumSteps", at: t0)
        if let hmax = c.maxStepSize {
            try check(CVodeSetMaxStep(memory, hmax), "CVodeSetMaxStep", at: t0)
        }
        try check(CVodeSetStopTime(memory, tEnd), "CVodeSetStopTime", at: t0)
        if callbacks.eventCount > 0 {
            try check(CVodeRootInit(memory, Int32(callbacks.eventCount), cvodeRootFunction), "CVodeRootInit", at: t0)
            // Events fire on upward crossings only (EventSystem's contract).
            var directions = [Int32](repeating: 1, count: callbacks.eventCount)
            try check(CVodeSetRootDirection(memory, &directions), "CVodeSetRootDirection", at: t0)
            try check(CVodeSetNoInactiveRootWarn(memory), "CVodeSetNoInactiveRootWarn", at: t0)
        }
    }

    deinit {
        if memory != nil { CVodeFree(&memory) }
        // After CVodeFree, which releases the backward CVODE memories still pointing at these
        // objects, and before the context they were created on.
        for release in releases.reversed() { release() }
        if let linearSolver { SUNLinSolFree(linearSolver) }
        if let matrix { SUNMatDestroy(matrix) }
        if let stateVector { N_VDestroy(stateVector) }
        if let scratchVector { N_VDestroy(scratchVector) }
        if let toleranceVector { N_VDestroy(toleranceVector) }
        if context != nil { SUNContext_Free(&context) }
        ledger?.live.subtract(1, ordering: .relaxed)
        Self.liveCount.subtract(1, ordering: .relaxed)
    }

    /// Registers the freeing of a SUNDIALS object created on ``context`` by an extension of this
    /// session; it runs in `deinit`, after `CVodeFree` and before the context is freed.
    func freeOnRelease(_ release: @escaping () -> Void) {
        releases.append(release)
    }

    /// A zeroed serial vector on this session's context, freed with the session.
    func vector(length: Int, at t: Double) throws(ODEError) -> N_Vector {
        guard let vector = N_VNew_Serial(sunindextype(length), context) else {
            throw .solverFailure(flag: CV_MEM_FAIL, flagName: "CV_MEM_FAIL", time: t, message: "N_VNew_Serial could not allocate memory")
        }
        freeOnRelease { N_VDestroy(vector) }
        N_VConst(0, vector)
        return vector
    }

    /// A dense matrix and direct solver for systems shaped like `template`, freed with the session.
    func denseLinearSolver(for template: N_Vector, at t: Double) throws(ODEError) -> (SUNLinearSolver, SUNMatrix) {
        let n = sunindextype(nde_nvector_length(template))
        guard let matrix = SUNDenseMatrix(n, n, context) else {
            throw .solverFailure(flag: CV_MEM_FAIL, flagName: "CV_MEM_FAIL", time: t, message: "SUNDenseMatrix could not allocate memory")
        }
        freeOnRelease { SUNMatDestroy(matrix) }
        guard let solver = SUNLinSol_Dense(template, matrix, context) else {
            throw .solverFailure(flag: CV_MEM_FAIL, flagName: "CV_MEM_FAIL", time: t, message: "SUNLinSol_Dense could not allocate memory")
        }
        freeOnRelease { SUNLinSolFree(solver) }
        return (solver, matrix)
    }

    /// What one call of ``step(toward:)`` reached.
    enum Outcome {
        /// An internal step ended here.
        case step
        /// Event functions crossed zero here; ``firedEvents()`` says which.
        case root
        /// The stop time was reached; the state is the final one.
        case stop
    }

    /// Takes one internal step (never beyond the stop time). `tout` only matters on the first
    /// call after (re)initialisation, where it sets the direction and the initial step's scale.
    func step(toward tout: Double) throws(ODEError) -> (time: Double, outcome: Outcome) {
        var t = 0.0
        let flag = CVode(memory, tout, stateVector, &t, CV_ONE_STEP)
        switch flag {
        case CV_SUCCESS: return (t, .step)
        case CV_ROOT_RETURN: return (t, .root)
        case CV_TSTOP_RETURN: return (t, .stop)
        default: throw failure(flag, at: t)
        }
    }

    /// Consecutive steps too short to move t: see ``checkProgress(at:)``.
    private var stalledSteps = 0

    /// CVODE keeps going when its step falls below the resolution of t (it only warns "t + h = t"),
    /// and a right-hand side that turns non-finite just ahead of t drives it there: every longer
    /// step fails, the shortest ones "succeed" without moving, and the step budget burns away at
    /// the same time. After a few such steps in a row this is reported as what it is.
    func checkProgress(at t: Double) throws(ODEError) {
        var h = 0.0
        try check(CVodeGetLastStep(memory, &h), "CVodeGetLastStep", at: t)
        guard t + h == t else {
            stalledSteps = 0
            callbacks.nonFiniteTime = nil
            return
        }
        stalledSteps += 1
        guard stalledSteps >= Self.stallLimit else { return }
        if let nonFinite = callbacks.nonFiniteTime {
            throw .nonFiniteState(time: nonFinite, step: statistics.steps)
        }
        throw .stepSizeTooSmall(time: t, stepSize: h)
    }

    /// CVODE's own count of "t + h = t" warnings before it falls silent.
    static let stallLimit = 10

    /// Writes the interpolated solution at `t` (inside the last step) into ``scratch``.
    func interpolate(at t: Double) throws(ODEError) {
        try check(CVodeGetDky(memory, t, 0, scratchVector), "CVodeGetDky", at: t)
    }

    /// Indices of the event functions that crossed zero at the last ``Outcome/root``.
    func firedEvents(at t: Double) throws(ODEError) -> [Int] {
        try check(CVodeGetRootInfo(memory, &rootsFound), "CVodeGetRootInfo", at: t)
        return rootsFound.indices.filter { rootsFound[$0] > 0 }
    }

    /// Restarts the integration at `t` from the (event-modified) ``state``. CVODE's history and
    /// counters are reset, so the counters are banked first; the stop time is set again rather
    /// than relied upon to survive.
    func reinitialize(at t: Double, toward tEnd: Double) throws(ODEError) {
        previousSegments = statistics
        callbacks.nonFiniteTime = nil
        try check(CVodeReInit(memory, t, stateVector), "CVodeReInit", at: t)
        try check(CVodeSetStopTime(memory, tEnd), "CVodeSetStopTime", at: t)
    }

    /// Work counters over all segments so far (events are counted by the driver).
    var statistics: SolverStatistics {
        var total = previousSegments
        total.add(Self.counters(of: memory, roots: callbacks.eventCount > 0))
        return total
    }

    /// CVODE's work counters since the last (re)initialisation of `memory`.
    static func counters(of memory: UnsafeMutableRawPointer?, roots countRoots: Bool) -> SolverStatistics {
        var steps = 0, errorTestFailures = 0, rhs = 0, rhsForJacobian = 0, jacobians = 0
        var iterations = 0, convergenceFailures = 0, setups = 0, roots = 0
        // Getters only fail on a null memory pointer, which a live session never has.
        CVodeGetNumSteps(memory, &steps)
        CVodeGetNumErrTestFails(memory, &errorTestFailures)
        CVodeGetNumRhsEvals(memory, &rhs)
        CVodeGetNumLinRhsEvals(memory, &rhsForJacobian)
        CVodeGetNumJacEvals(memory, &jacobians)
        CVodeGetNumNonlinSolvIters(memory, &iterations)
        CVodeGetNumNonlinSolvConvFails(memory, &convergenceFailures)
        CVodeGetNumLinSolvSetups(memory, &setups)
        if countRoots { CVodeGetNumGEvals(memory, &roots) }
        var counters = SolverStatistics()
        counters.steps = steps
        counters.rejectedSteps = errorTestFailures
        counters.rightHandSideEvaluations = rhs + rhsForJacobian
        counters.jacobianEvaluations = jacobians
        counters.nonlinearIterations = iterations
        counters.convergenceFailures = convergenceFailures
        counters.linearSolverSetups = setups
        counters.eventFunctionEvaluations = roots
        return counters
    }

    // MARK: Errors

    func check(_ flag: Int32, _ function: String, at t: Double) throws(ODEError) {
        guard flag < 0 else { return }
        if let failure = callbacks.failure { throw failure }
        let detail = callbacks.message.isEmpty ? "\(function) failed" : callbacks.message
        throw .solverFailure(flag: flag, flagName: Self.flagName(flag), time: t, message: detail)
    }

    /// Turns a failed `CVode` call into the most specific error available: the model's own error
    /// first, then a non-finite right-hand side CVODE could not step around, then the step budget,
    /// then CVODE's flag with its message.
    func failure(_ flag: Int32, at t: Double) -> ODEError {
        if let failure = callbacks.failure { return failure }
        if let nonFinite = callbacks.nonFiniteTime {
            return .nonFiniteState(time: nonFinite, step: statistics.steps + 1)
        }
        if flag == CV_TOO_MUCH_WORK { return .stepBudgetExhausted(time: t, maxSteps: maxSteps) }
        return .solverFailure(flag: flag, flagName: Self.flagName(flag), time: t, message: callbacks.message)
    }

    /// CVODE's symbolic name for a flag. CVodeGetReturnFlagName returns a malloc'ed string that
    /// the caller must free.
    static func flagName(_ flag: Int32) -> String {
        guard let name = CVodeGetReturnFlagName(Int(flag)) else { return "flag \(flag)" }
        defer { free(name) }
        return String(cString: name)
    }
}

extension SolverStatistics {
    /// Adds another solve's (or segment's) counters to these.
    mutating func add(_ other: SolverStatistics) {
        steps += other.steps
        rejectedSteps += other.rejectedSteps
        rightHandSideEvaluations += other.rightHandSideEvaluations
        jacobianEvaluations += other.jacobianEvaluations
        nonlinearIterations += other.nonlinearIterations
        convergenceFailures += other.convergenceFailures
        linearSolverSetups += other.linearSolverSetups
        eventFunctionEvaluations += other.eventFunctionEvaluations
        events += other.events
    }
}
