import CSundials

/// SUNDIALS CVODE (from CVODES 6.4): variable-order, variable-step BDF for stiff systems and
/// Adams–Moulton for non-stiff ones (SCIENCE.md "Integrators").
///
/// Both methods solve their implicit stage equations with Newton's method and a dense direct
/// linear solver. That is the standard choice for BDF; for Adams it costs a dense LU per Jacobian
/// update, which is cheap at the sizes NeuroODE runs with CVODE and keeps Adams robust when a
/// problem turns mildly stiff (functional iteration would diverge there). The Jacobian is the
/// system's own when it conforms to ``JacobianProviding`` (detected once per solve), otherwise
/// CVODE's difference quotients.
///
/// The solver runs in one-step mode with the stop time at the end of the span, so every internal
/// step is seen (spike detection, every-k-step output), requested output times are interpolated
/// with CVODE's own dense output (`CVodeGetDky`), and no step goes past the end. Events of an
/// ``EventSystem`` are located by CVODE's root finder (upward crossings only); at a root the event
/// is recorded and applied, and CVODE restarts from the new state (the state reported at the event
/// time is the one before the event). As in CVODE's normal mode, the initial step is scaled to the
/// first requested output time when there is one, otherwise to the end of the span.
///
/// Every failure is a typed ``ODEError``: bad settings are rejected before any C memory exists,
/// CVODE failures carry its flag, the time reached and its own message, a model that throws is
/// reported with its name and the time, and a non-finite right-hand side is first treated as a
/// recoverable failure (CVODE shrinks the step) and reported with its time if CVODE gives up.
/// Backward spans (end < start) are supported.
public struct CVODE: Integrator {
    /// The linear multistep family.
    public enum Method: String, Sendable {
        /// Backward differentiation formulas, orders 1–5: the stiff solver.
        case bdf
        /// Adams–Moulton, orders 1–12: for non-stiff problems.
        case adams
    }

    /// BDF (stiff, the default) or Adams (non-stiff).
    public var method: Method
    /// rtol of the local error test, in [``minimumRelativeTolerance``, 1).
    public var relativeTolerance: Double
    /// The absolute tolerance for every component, unless ``absoluteTolerances`` is given.
    public var absoluteTolerance: Double
    /// One absolute tolerance per state component; overrides ``absoluteTolerance``.
    public var absoluteTolerances: [Double]?
    /// Total number of internal steps allowed over the whole span (CVODE's default of 500 per
    /// call is far too small for ROBER to 4·10¹⁰).
    public var maxSteps: Int
    /// An upper bound on the internal step, or `nil` for none.
    public var maxStepSize: Double?

    /// Settings only; they are validated when a solve starts, which throws ``ODEError`` naming a bad
    /// tolerance or step budget.
    public init(
        method: Method = .bdf, relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 1e-10,
        absoluteTolerances: [Double]? = nil, maxSteps: Int = 1_000_000, maxStepSize: Double? = nil
    ) {
        self.method = method
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.absoluteTolerances = absoluteTolerances
        self.maxSteps = maxSteps
        self.maxStepSize = maxStepSize
    }

    /// Appends ``absoluteTolerance`` for each new component when a per-component vector is set.
    public func appendingComponents(_ count: Int) -> CVODE {
        guard let tolerances = absoluteTolerances, count > 0 else { return self }
        var extended = self
        extended.absoluteTolerances = tolerances + Array(repeating: absoluteTolerance, count: count)
        return extended
    }

    public var name: String { "cvode-\(method.rawValue)" }

    /// Smallest accepted relative tolerance: below about 100 units of roundoff CVODE cannot meet
    /// the request and only burns steps.
    public static let minimumRelativeTolerance = 1e-14

    /// Checks the settings against a system of `dimension` states, naming the bad value.
    public func validate(dimension: Int) throws(ODEError) {
        guard relativeTolerance.isFinite, relativeTolerance >= Self.minimumRelativeTolerance, relativeTolerance < 1 else {
            throw .invalidTolerance(name: "relative tolerance", value: relativeTolerance)
        }
        // Zero absolute tolerances are refused: with a state component at 0 (ROBER's y2 and y3 at
        // t = 0) the error weight 1/(rtol·|y| + atol) would be infinite.
        if let tolerances = absoluteTolerances {
            guard tolerances.count == dimension else {
                throw .dimensionMismatch(what: "absolute tolerance vector", expected: dimension, actual: tolerances.count)
            }
            for (i, value) in tolerances.enumerated() where !(value.isFinite && value > 0) {
                throw .invalidTolerance(name: "absolute tolerance [\(i)]", value: value)
            }
        } else if !(absoluteTolerance.isFinite && absoluteTolerance > 0) {
            throw .invalidTolerance(name: "absolute tolerance", value: absoluteTolerance)
        }
        guard maxSteps >= 1 else { throw .invalidTolerance(name: "maximum number of steps", value: Double(maxSteps)) }
        if let h = maxStepSize, !(h.isFinite && h > 0) {
            throw .invalidTolerance(name: "maximum step size", value: h)
        }
    }

    public func integrate<System: ODESystem>(
        _ problem: ODEProblem<System>, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        try validate(dimension: problem.system.dimension)
        let callbacks = CVODECallbacks(system: problem.system, parameters: problem.parameters)
        let session = try CVODESession(
            callbacks: callbacks, initialState: problem.initialState,
            startTime: problem.startTime, endTime: problem.endTime,
            configuration: sessionConfiguration)
        return try Self.drive(session, problem, events: problem.system as? any EventSystem, recorder: &recorder)
    }

    /// The one-step loop: step, interpolate due outputs, observe the step, handle roots.
    private static func drive<System: ODESystem>(
        _ session: CVODESession, _ problem: ODEProblem<System>, events: (any EventSystem)?,
        recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        let tEnd = problem.endTime
        let observing = recorder.observesSteps
        let state = UnsafeBufferPointer(session.state)
        // The state at the start of the current step, for spike interpolation and step output.
        let previous = UnsafeMutableBufferPointer<Double>.allocate(capacity: session.dimension)
        defer { previous.deallocate() }
        _ = previous.initialize(from: problem.initialState)
        recorder.start(at: problem.startTime, state: UnsafeBufferPointer(previous))

        var tPrevious = problem.startTime
        var steps = 0
        var firedEvents = 0
        func finish(at t: Double) -> SolverStatistics {
            recorder.complete(at: t, state: state)
            var statistics = session.statistics
            statistics.events = firedEvents
            return statistics
        }

        // On its first call after (re)initialisation at t, CVODE in one-step mode takes the scale
        // of its initial step from the distance to `tout`. As in its normal mode, that is the next
        // requested output time when there is one: it is the time scale the caller cares about,
        // and it reproduces SUNDIALS' own examples step for step. Later calls aim at the end.
        func firstTarget(from t: Double) -> Double {
            guard let next = recorder.nextOutputTime,
                  abs(next - t) > 4 * Double.ulpOfOne * max(abs(next), abs(t)) else { return tEnd }
            return next
        }
        var target = firstTarget(from: problem.startTime)
        while true {
            let (t, outcome) = try session.step(toward: target)
            target = tEnd
            steps += 1
            if observing {
                while let tOut = recorder.nextOutputTime, recorder.isReached(tOut, by: t) {
                    if tOut == t {
                        recorder.recordOutput(at: tOut, state: state)
                    } else {
                        try session.interpolate(at: tOut)
                        recorder.recordOutput(at: tOut, state: UnsafeBufferPointer(session.scratch))
                    }
                }
                recorder.observeStep(from: tPrevious, previous: UnsafeBufferPointer(previous), to: t, current: state)
            }
            switch outcome {
            case .stop:
                return finish(at: t)
            case .root:
                if let events {
                    let parameters = UnsafeBufferPointer(session.callbacks.parameters)
                    for index in try session.firedEvents(at: t) {
                        recorder.recordEvent(index, at: t)
                        events.applyEvent(index, at: t, state: session.state, parameters: parameters)
                        firedEvents += 1
                    }
                }
                // A root within roundoff of the end leaves no room for another step (CVODE would
                // refuse with CV_TOO_CLOSE): the post-event state is the final one.
                if abs(tEnd - t) <= 4 * Double.ulpOfOne * max(abs(t), abs(tEnd)) {
                    return finish(at: tEnd)
                }
                try session.reinitialize(at: t, toward: tEnd)
                target = firstTarget(from: t)
            case .step:
                try session.checkProgress(at: t)
            }
            if steps >= session.maxSteps {
                throw .stepBudgetExhausted(time: t, maxSteps: session.maxSteps)
            }
            if observing {
                _ = previous.update(fromContentsOf: state)
            }
            tPrevious = t
        }
    }
}
