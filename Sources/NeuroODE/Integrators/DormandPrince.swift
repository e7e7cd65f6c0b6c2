import Foundation

/// The Dormand–Prince 5(4) explicit Runge–Kutta pair (dopri5) with adaptive steps, dense output
/// and event location (SCIENCE.md "Integrators"): the method for non-stiff neural ODEs.
///
/// Each step evaluates seven stages; the seventh is f at the new point, so it is reused as the
/// first stage of the next step (FSAL) and a step costs six evaluations. The 5th-order solution
/// is propagated (local extrapolation) and the embedded 4th-order one only estimates the error.
///
/// **Error control** (Hairer, Nørsett & Wanner, *Solving ODEs I*, II.4). The error of a step is the
/// RMS over the components of eᵢ/scᵢ with scᵢ = atol + rtol·max(|y₀ᵢ|, |y₁ᵢ|), and the step is
/// accepted when it is ≤ 1. The next step comes from a PI controller,
/// h_new = h · err^(−0.17) · err_prev^(0.04) · 0.9, limited to [h/5, 10h]; after a rejection the
/// step may not grow. A step whose stages are non-finite counts as rejected and is cut five-fold;
/// if that drives the step below what floating point resolves at t the solve fails with
/// ``ODEError/nonFiniteState(time:step:model:)``, and any other collapse (a finite-time blow-up, a very
/// stiff problem) with ``ODEError/stepSizeTooSmall(time:stepSize:)``. Attempted steps (accepted
/// plus rejected) are limited by `maxSteps`. The first step, unless given, follows Hairer's
/// heuristic: a step for which an explicit Euler step changes f by about 1 % of the tolerance scale.
///
/// **Dense output** uses the 4th-order continuous extension of Dormand and Prince (Hairer's
/// `CONTD5`): y(t + θh) = r₁ + θ(r₂ + (1−θ)(r₃ + θ(r₄ + (1−θ)r₅))), exact at both ends and C¹
/// there. Validation/dopri5_dense_output_conditions.py verifies its order conditions exactly.
///
/// **Events** (``EventSystem``): after each accepted step the event functions are evaluated at its
/// end; a function that went from < 0 to ≥ 0 is located on the dense output by the Illinois
/// (modified regula falsi) method to 10⁻¹² relative (the root search the leapfrog shares). The
/// step is cut at the earliest such time, the event is recorded and applied, and the integration
/// restarts there (a new first stage).
/// A function that is ≥ 0 at a restart (the located point lies just past its zero, and a reset
/// such as a bounce may leave it there) takes its sign from just after the restart: in the first
/// step, if it is ≥ 0 at the step's end, it is also probed 10⁻¹⁰ (relative) after the start, and a
/// negative value there brackets a new crossing. So a ball that bounces and lands again within one
/// step is still caught, while an event whose reset leaves g ≥ 0 does not fire twice. As with any
/// step-end test, a function that goes up and back down within one ordinary step is not seen.
///
/// Backward spans (end < start) integrate with negative steps. ``fixedStep(_:)`` turns error
/// control off: steps of exactly h on the grid t₀ ± kh, the last one shortened to land on the end.
public struct DormandPrince: Integrator {
    /// rtol of the error test (1e-14 ≤ rtol < 1); unused (0) for ``fixedStep(_:)``.
    public let relativeTolerance: Double
    /// atol of the error test (> 0); unused (0) for ``fixedStep(_:)``.
    public let absoluteTolerance: Double
    /// The most attempted (accepted plus rejected) steps of an adaptive solve. A fixed-step solve
    /// has no budget: its step count is known up front.
    public let maxSteps: Int
    /// The first step's length; `nil` chooses it automatically. Clipped to the span.
    public let initialStepSize: Double?
    /// An upper bound on the step length; `nil` means the span.
    public let maxStepSize: Double?
    /// When set, every step has this length (the last one shortened) and the error is not
    /// estimated: for convergence tests and for backpropagation through a fixed grid.
    public let fixedStepSize: Double?

    /// An adaptive solver (5th order, error estimated by the embedded 4th-order solution). Settings
    /// are validated when a solve starts, which throws ``ODEError`` naming the bad value.
    public init(
        relativeTolerance: Double = 1e-6,
        absoluteTolerance: Double = 1e-9,
        maxSteps: Int = 1_000_000,
        initialStepSize: Double? = nil,
        maxStepSize: Double? = nil
    ) {
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
        self.initialStepSize = initialStepSize
        self.maxStepSize = maxStepSize
        self.fixedStepSize = nil
    }

    private init(fixedStepSize h: Double) {
        relativeTolerance = 0
        absoluteTolerance = 0
        maxSteps = .max
        initialStepSize = nil
        maxStepSize = nil
        fixedStepSize = h
    }

    /// dopri5 without error control: steps of length `h` (the last one shortened to end on the
    /// span), the classical order-5 one-step map.
    public static func fixedStep(_ h: Double) -> DormandPrince {
        DormandPrince(fixedStepSize: h)
    }

    public var name: String { "dopri5" }

    public func integrate<System: ODESystem>(
        _ problem: ODEProblem<System>, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        let span = abs(problem.endTime - problem.startTime)
        let stepping: Stepping
        if let h = fixedStepSize {
            guard h.isFinite, h > 0, h <= span * (1 + 1e-12) else { throw .invalidStepSize(h) }
            _ = try FixedStepCount.covering(span: span, stepSize: h)
            stepping = .fixed(h)
        } else {
            stepping = .adaptive(try validatedControl(span: span))
        }
        var run = Run(problem: problem, stepping: stepping)
        defer { run.deallocate() }
        return try run.integrate(recorder: &recorder)
    }

    /// Checks the options against the span; the error names the first bad value.
    private func validatedControl(span: Double) throws(ODEError) -> StepControl {
        // Below ~1e-14 the requested accuracy is under the roundoff of the stage sums.
        guard relativeTolerance.isFinite, relativeTolerance >= 1e-14, relativeTolerance < 1 else {
            throw .invalidTolerance(name: "relative tolerance (needs 1e-14 ≤ rtol < 1)", value: relativeTolerance)
        }
        // A zero atol divides by zero wherever a component of y passes through 0.
        guard absoluteTolerance.isFinite, absoluteTolerance > 0 else {
            throw .invalidTolerance(name: "absolute tolerance (needs atol > 0)", value: absoluteTolerance)
        }
        guard maxSteps >= 1 else {
            throw .invalidTolerance(name: "maximum number of steps (needs ≥ 1)", value: Double(maxSteps))
        }
        var largest = span
        if let maxStepSize {
            guard maxStepSize.isFinite, maxStepSize > 0 else { throw .invalidStepSize(maxStepSize) }
            largest = min(largest, maxStepSize)
        }
        if let initialStepSize {
            guard initialStepSize.isFinite, initialStepSize > 0 else { throw .invalidStepSize(initialStepSize) }
        }
        return StepControl(
            relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance, maxSteps: maxSteps,
            initialStepSize: initialStepSize.map { min($0, largest) }, maxStepSize: largest)
    }
}

/// The Butcher tableau of Dormand–Prince 5(4), its error weights e = b − b̂ and the coefficients d of
/// the continuous extension (Hairer's `CONTD5`). Exact rationals, checked by
/// Validation/dopri5_dense_output_conditions.py; shared with gradient code that differentiates
/// through the stages.
package enum DormandPrinceTableau {
    package static let c2 = 1.0 / 5, c3 = 3.0 / 10, c4 = 4.0 / 5, c5 = 8.0 / 9
    package static let a21 = 1.0 / 5
    package static let a31 = 3.0 / 40, a32 = 9.0 / 40
    package static let a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9
    package static let a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729
    package static let a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176
    package static let a65 = -5103.0 / 18656
    /// The 5th-order weights b (= the seventh row of A; b₂ = b₇ = 0).
    package static let b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84
    /// e = b − b̂, the weights of the local error estimate.
    package static let e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200
    package static let e6 = 22.0 / 525, e7 = -1.0 / 40
    package static let d1 = -12715105075.0 / 11282082432, d3 = 87487479700.0 / 32700410799
    package static let d4 = -10690763975.0 / 1880347072, d5 = 701980252875.0 / 199316789632
    package static let d6 = -1453857185.0 / 822651844, d7 = 69997945.0 / 29380423

    /// Stages 2…6 of one step from (t, y) with k₁ already in `stages.0`, and the 5th-order
    /// solution in `result`. The one place this arithmetic lives: the integrator and BPTT's replay
    /// of its accepted steps both call it, so they compute bit-identical states. Stage 6 is taken
    /// at `tNew` (the step's exact end) rather than t + h. Returns false when the new state is not
    /// finite.
    @inline(__always)
    package static func advance(
        from t: Double, step h: Double, to tNew: Double, state y: UnsafeBufferPointer<Double>,
        stages k: (UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>,
                   UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>),
        stageState yStage: UnsafeMutableBufferPointer<Double>, into result: UnsafeMutableBufferPointer<Double>,
        rightHandSide: (Double, UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws(ODEError) -> Void
    ) throws(ODEError) -> Bool {
        let (k1, k2, k3, k4, k5, k6) = k
        let n = y.count
        for i in 0..<n { yStage[i] = y[i] + h * (a21 * k1[i]) }
        try rightHandSide(t + c2 * h, yStage, k2)
        for i in 0..<n { yStage[i] = y[i] + h * (a31 * k1[i] + a32 * k2[i]) }
        try rightHandSide(t + c3 * h, yStage, k3)
        for i in 0..<n { yStage[i] = y[i] + h * (a41 * k1[i] + a42 * k2[i] + a43 * k3[i]) }
        try rightHandSide(t + c4 * h, yStage, k4)
        for i in 0..<n { yStage[i] = y[i] + h * (a51 * k1[i] + a52 * k2[i] + a53 * k3[i] + a54 * k4[i]) }
        try rightHandSide(t + c5 * h, yStage, k5)
        for i in 0..<n {
            yStage[i] = y[i] + h * (a61 * k1[i] + a62 * k2[i] + a63 * k3[i] + a64 * k4[i] + a65 * k5[i])
        }
        try rightHandSide(tNew, yStage, k6)
        var finite = true
        for i in 0..<n {
            let v = y[i] + h * (b1 * k1[i] + b3 * k3[i] + b4 * k4[i] + b5 * k5[i] + b6 * k6[i])
            result[i] = v
            finite = finite && v.isFinite
        }
        return finite
    }
}

extension DormandPrince {
    /// Validated step-size options of an adaptive solve (lengths, unsigned).
    struct StepControl {
        let relativeTolerance, absoluteTolerance: Double
        let maxSteps: Int
        let initialStepSize: Double?
        let maxStepSize: Double
    }

    enum Stepping {
        case fixed(Double)
        case adaptive(StepControl)
    }

    /// PI step-size controller constants (Hairer's DOPRI5 defaults).
    enum Controller {
        static let safety = 0.9
        /// Exponent of the previous error (the "I" part); 0 would be the standard controller.
        static let beta = 0.04
        static let exponent = 0.2 - 0.75 * beta
        /// A step shrinks at most 5-fold and grows at most 10-fold.
        static let minFactor = 0.2, maxFactor = 10.0
    }

    /// One solve: the scratch memory, allocated once, and the stepping loop.
    ///
    /// All vectors live in one buffer: the seven stages k₁…k₇ contiguously, then the state y, the
    /// trial state, a stage argument, the five dense-output vectors r₁…r₅, an interpolated state,
    /// the parameters, and three vectors of event-function values.
    struct Run<System: ODESystem> {
        let system: System
        let events: (any EventSystem)?
        let n: Int
        let startTime, endTime, direction: Double
        let stepping: Stepping
        let storage: UnsafeMutableBufferPointer<Double>
        var stage: [UnsafeMutableBufferPointer<Double>]
        var y, yNew: UnsafeMutableBufferPointer<Double>
        let yStage, interpolated: UnsafeMutableBufferPointer<Double>
        let dense: [UnsafeMutableBufferPointer<Double>]
        let p: UnsafeBufferPointer<Double>
        var eventsBefore, eventsAfter: UnsafeMutableBufferPointer<Double>
        /// Event values at trial points of the root search, then at the located time.
        let eventsTrial: UnsafeMutableBufferPointer<Double>
        /// Per event, the fraction of the step that brackets its crossing from below, or −1.
        let eventsLower: UnsafeMutableBufferPointer<Double>
        /// Whether the current step is the first since the start or an event.
        var restarted = true
        var statistics = SolverStatistics()

        init(problem: ODEProblem<System>, stepping: Stepping) {
            system = problem.system
            events = problem.system as? any EventSystem
            n = system.dimension
            startTime = problem.startTime
            endTime = problem.endTime
            direction = problem.direction
            self.stepping = stepping
            let n = n, m = events?.eventCount ?? 0, parameterCount = problem.parameters.count
            let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 17 * n + parameterCount + 4 * m)
            buffer.initialize(repeating: 0)
            var offset = 0
            func take(_ count: Int) -> UnsafeMutableBufferPointer<Double> {
                defer { offset += count }
                return UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + count)])
            }
            storage = buffer
            stage = (0..<7).map { _ in take(n) }
            y = take(n)
            yNew = take(n)
            yStage = take(n)
            dense = (0..<5).map { _ in take(n) }
            interpolated = take(n)
            let parameters = take(parameterCount)
            _ = problem.parameters.withUnsafeBufferPointer { parameters.initialize(fromContentsOf: $0) }
            p = UnsafeBufferPointer(parameters)
            eventsBefore = take(m)
            eventsAfter = take(m)
            eventsTrial = take(m)
            eventsLower = take(m)
            _ = problem.initialState.withUnsafeBufferPointer { y.initialize(fromContentsOf: $0) }
        }

        func deallocate() { storage.deallocate() }

        // MARK: The stepping loop

        mutating func integrate(recorder: inout TrajectoryRecorder) throws(ODEError) -> SolverStatistics {
            var t = startTime
            recorder.start(at: t, state: UnsafeBufferPointer(y))
            try evaluateFirstStage(at: t, step: 0)
            if events != nil { try evaluateEvents(at: t, state: y, into: eventsBefore) }
            let observing = recorder.observesSteps

            var h: Double
            var fixedGridIndex = 0
            switch stepping {
            case let .fixed(length): h = direction * length
            case let .adaptive(control):
                if let given = control.initialStepSize {
                    h = direction * given
                } else {
                    h = direction * (try initialStepSize(control))
                }
            }
            var previousError = 1e-4
            var rejectedLast = false, nonFiniteLast = false
            var attempts = 0

            while (endTime - t) * direction > 0 {
                // Choose this step's end; the last step lands exactly on endTime.
                var tNew: Double
                switch stepping {
                case let .fixed(length):
                    let gridEnd = fixedGridTime(fixedGridIndex + 1, length)
                    tNew = gridEnd
                    h = gridEnd - t
                case let .adaptive(control):
                    guard attempts < control.maxSteps else {
                        throw .stepBudgetExhausted(time: t, maxSteps: control.maxSteps)
                    }
                    if (t + 1.01 * h - endTime) * direction >= 0 {
                        h = endTime - t
                        tNew = endTime
                    } else {
                        tNew = t + h
                        // What floating point resolves across this step (not at the far end of the span,
                        // which for a huge span would call every step near t = 0 too small).
                        let resolvable = 16 * max(abs(t), abs(tNew)).ulp
                        guard abs(h) >= resolvable, tNew != t else {
                            throw nonFiniteLast
                                ? .nonFiniteState(time: t, step: statistics.steps + 1)
                                : .stepSizeTooSmall(time: t, stepSize: h)
                        }
                    }
                }
                attempts += 1
                let finite = try evaluateStages(from: t, step: h, to: tNew)

                if case let .adaptive(control) = stepping {
                    let error = finite ? errorNorm(step: h, control) : .nan
                    guard error.isFinite else {
                        statistics.rejectedSteps += 1
                        h *= Controller.minFactor
                        rejectedLast = true
                        nonFiniteLast = true
                        continue
                    }
                    nonFiniteLast = false
                    let growth = pow(error, Controller.exponent)
                    guard error <= 1 else {
                        statistics.rejectedSteps += 1
                        h /= min(1 / Controller.minFactor, growth / Controller.safety)
                        rejectedLast = true
                        continue
                    }
                    var factor = growth / pow(previousError, Controller.beta) / Controller.safety
                    factor = max(1 / Controller.maxFactor, min(1 / Controller.minFactor, factor))
                    var hNext = min(abs(h) / factor, control.maxStepSize)
                    if rejectedLast { hNext = min(hNext, abs(h)) }
                    previousError = max(error, 1e-4)
                    rejectedLast = false
                    statistics.steps += 1
                    t = try finishStep(from: t, step: h, to: tNew, observing: observing, recorder: &recorder)
                    h = direction * hNext
                } else {
                    guard finite else { throw .nonFiniteState(time: tNew, step: statistics.steps + 1) }
                    statistics.steps += 1
                    t = try finishStep(from: t, step: h, to: tNew, observing: observing, recorder: &recorder)
                    if case let .fixed(length) = stepping, t == fixedGridTime(fixedGridIndex + 1, length) {
                        fixedGridIndex += 1
                    }
                }
            }
            recorder.complete(at: t, state: UnsafeBufferPointer(y))
            return statistics
        }

        /// The k-th point of the fixed grid, the last one exactly endTime.
        private func fixedGridTime(_ k: Int, _ length: Double) -> Double {
            let t = startTime + direction * Double(k) * length
            // Within 1e-9 of a step of the end counts as the end (no sliver of a last step).
            return (endTime - t) * direction <= 1e-9 * length ? endTime : t
        }

        /// Handles an accepted step [t, tNew]: events (which may cut it short), outputs, recorder,
        /// FSAL. Returns the time the step really ended at.
        private mutating func finishStep(
            from t: Double, step h: Double, to tNew: Double, observing: Bool, recorder: inout TrajectoryRecorder
        ) throws(ODEError) -> Double {
            var denseReady = false
            var tEnd = tNew
            var fired = false
            var eventTheta = 1.0
            if events != nil {
                try evaluateEvents(at: tNew, state: yNew, into: eventsAfter)
                if let theta = try locateEvent(from: t, step: h, to: tNew, denseReady: &denseReady) {
                    fired = true
                    eventTheta = theta
                    tEnd = theta == 1 ? tNew : t + theta * h
                    // The state at the event overwrites yNew only after the outputs before it.
                    emitOutputs(from: t, step: h, stepEnd: tNew, upTo: tEnd, recorder: &recorder, denseReady: &denseReady)
                    if theta < 1 { interpolate(theta, into: yNew) }
                    try evaluateEvents(at: tEnd, state: yNew, into: eventsTrial)
                }
            }
            if !fired {
                emitOutputs(from: t, step: h, stepEnd: tNew, upTo: tEnd, recorder: &recorder, denseReady: &denseReady)
            }
            if observing {
                recorder.observeStep(from: t, previous: UnsafeBufferPointer(y), to: tEnd, current: UnsafeBufferPointer(yNew))
            }
            swap(&y, &yNew)
            if fired, let events {
                for e in 0..<events.eventCount where eventsLower[e] >= 0 && eventsLower[e] < eventTheta && eventsTrial[e] >= 0 {
                    recorder.recordEvent(e, at: tEnd)
                    events.applyEvent(e, at: tEnd, state: y, parameters: p)
                    statistics.events += 1
                }
                // The state jumped: the first stage and the event signs start afresh.
                try evaluateFirstStage(at: tEnd, step: statistics.steps)
                try evaluateEvents(at: tEnd, state: y, into: eventsBefore)
                restarted = true
            } else {
                stage.swapAt(0, 6)  // FSAL: f(tNew, yNew) is the next step's first stage.
                if events != nil { swap(&eventsBefore, &eventsAfter) }
                restarted = false
            }
            return tEnd
        }

        /// Records every requested output time in (t, limit] from the dense output of the step
        /// [t, stepEnd]; the step's own end is reported exactly.
        private func emitOutputs(
            from t: Double, step h: Double, stepEnd: Double, upTo limit: Double,
            recorder: inout TrajectoryRecorder, denseReady: inout Bool
        ) {
            while let tOut = recorder.nextOutputTime, recorder.isReached(tOut, by: limit) {
                if tOut == stepEnd {
                    recorder.recordOutput(at: tOut, state: UnsafeBufferPointer(yNew))
                    continue
                }
                if !denseReady {
                    prepareDenseOutput(step: h)
                    denseReady = true
                }
                interpolate((tOut - t) / h, into: interpolated)
                recorder.recordOutput(at: tOut, state: UnsafeBufferPointer(interpolated))
            }
        }

        // MARK: Stages, error and dense output

        private mutating func evaluateFirstStage(at t: Double, step: Int) throws(ODEError) {
            try system.rightHandSide(t, UnsafeBufferPointer(y), p, stage[0])
            statistics.rightHandSideEvaluations += 1
            // Without a finite slope at the current point no step size can help.
            for i in 0..<n where !stage[0][i].isFinite { throw .nonFiniteState(time: t, step: step) }
        }

        /// Stages 2…7 of the step from (t, y) with k₁ in place; yNew gets the 5th-order solution.
        /// Returns false when a stage or the new state is not finite.
        private mutating func evaluateStages(from t: Double, step h: Double, to tNew: Double) throws(ODEError) -> Bool {
            let k = (stage[0], stage[1], stage[2], stage[3], stage[4], stage[5])
            var solver = self
            defer { statistics = solver.statistics }
            guard try DormandPrinceTableau.advance(
                from: t, step: h, to: tNew, state: UnsafeBufferPointer(y), stages: k, stageState: yStage, into: yNew,
                rightHandSide: { (time, state, slope) throws(ODEError) in try solver.rhs(time, state, slope) })
            else { return false }
            try solver.rhs(tNew, yNew, stage[6])
            var finite = true
            for i in 0..<n { finite = finite && stage[6][i].isFinite }
            return finite
        }

        @inline(__always)
        private mutating func rhs(
            _ t: Double, _ state: UnsafeMutableBufferPointer<Double>, _ derivative: UnsafeMutableBufferPointer<Double>
        ) throws(ODEError) {
            try system.rightHandSide(t, UnsafeBufferPointer(state), p, derivative)
            statistics.rightHandSideEvaluations += 1
        }

        /// RMS over the components of the local error estimate scaled by atol + rtol·max(|y₀|, |y₁|).
        private func errorNorm(step h: Double, _ control: StepControl) -> Double {
            typealias T = DormandPrinceTableau
            let k1 = stage[0], k3 = stage[2], k4 = stage[3], k5 = stage[4], k6 = stage[5], k7 = stage[6]
            var sum = 0.0
            for i in 0..<n {
                let estimate = h * (T.e1 * k1[i] + T.e3 * k3[i] + T.e4 * k4[i] + T.e5 * k5[i] + T.e6 * k6[i] + T.e7 * k7[i])
                let scale = control.absoluteTolerance + control.relativeTolerance * max(abs(y[i]), abs(yNew[i]))
                let ratio = estimate / scale
                sum += ratio * ratio
            }
            return (sum / Double(n)).squareRoot()
        }

        /// Forms r₁…r₅ of the continuous extension of the step just taken (stages still in place).
        func prepareDenseOutput(step h: Double) {
            typealias T = DormandPrinceTableau
            let k1 = stage[0], k3 = stage[2], k4 = stage[3], k5 = stage[4], k6 = stage[5], k7 = stage[6]
            let r1 = dense[0], r2 = dense[1], r3 = dense[2], r4 = dense[3], r5 = dense[4]
            for i in 0..<n {
                let difference = yNew[i] - y[i]
                let slopeGap = h * k1[i] - difference
                r1[i] = y[i]
                r2[i] = difference
                r3[i] = slopeGap
                r4[i] = difference - h * k7[i] - slopeGap
                r5[i] = h * (T.d1 * k1[i] + T.d3 * k3[i] + T.d4 * k4[i] + T.d5 * k5[i] + T.d6 * k6[i] + T.d7 * k7[i])
            }
        }

        /// The dense output at t + θh (0 ≤ θ ≤ 1), after ``prepareDenseOutput(step:)``.
        func interpolate(_ theta: Double, into out: UnsafeMutableBufferPointer<Double>) {
            let r1 = dense[0], r2 = dense[1], r3 = dense[2], r4 = dense[3], r5 = dense[4]
            let complement = 1 - theta
            for i in 0..<n {
                out[i] = r1[i] + theta * (r2[i] + complement * (r3[i] + theta * (r4[i] + complement * r5[i])))
            }
        }

        // MARK: Initial step

        /// Hairer's starting step (*Solving ODEs I*, II.4): h₀ = 0.01·‖y₀‖/‖f₀‖, then one Euler step
        /// estimates the second derivative and h = (0.01 / max(‖f₀‖, ‖f″‖))^(1/5), within 100·h₀.
        /// Norms are the RMS norms of the error test. Costs one evaluation (stage 2 is scratch).
        private mutating func initialStepSize(_ control: StepControl) throws(ODEError) -> Double {
            let f0 = stage[0], f1 = stage[1]
            func scale(_ i: Int) -> Double { control.absoluteTolerance + control.relativeTolerance * abs(y[i]) }
            var stateNorm = 0.0, slopeNorm = 0.0
            for i in 0..<n {
                let s = scale(i)
                stateNorm += (y[i] / s) * (y[i] / s)
                slopeNorm += (f0[i] / s) * (f0[i] / s)
            }
            stateNorm = (stateNorm / Double(n)).squareRoot()
            slopeNorm = (slopeNorm / Double(n)).squareRoot()
            var h0 = stateNorm < 1e-5 || slopeNorm < 1e-5 ? 1e-6 : 0.01 * stateNorm / slopeNorm
            h0 = min(h0, control.maxStepSize)
            for i in 0..<n { yStage[i] = y[i] + direction * h0 * f0[i] }
            try rhs(startTime + direction * h0, yStage, f1)
            var curvature = 0.0
            for i in 0..<n {
                let ratio = (f1[i] - f0[i]) / scale(i)
                curvature += ratio * ratio
            }
            curvature = (curvature / Double(n)).squareRoot() / h0
            // A non-finite probe leaves the decision to the step-rejection logic.
            guard curvature.isFinite else { return h0 }
            let largest = max(curvature, slopeNorm)
            let h1 = largest <= 1e-15 ? max(1e-6, h0 * 1e-3) : pow(0.01 / largest, 1.0 / 5)
            return min(100 * h0, h1, control.maxStepSize)
        }

        // MARK: Events

        private mutating func evaluateEvents(
            at t: Double, state: UnsafeMutableBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>
        ) throws(ODEError) {
            guard let events else { return }
            do {
                try events.evaluateEventFunctions(at: t, state: UnsafeBufferPointer(state), parameters: p, into: values)
            } catch let error as ODEError {
                throw error
            } catch {
                throw .rightHandSideFailed(model: system.name, time: t, reason: "event function: \(error)")
            }
            statistics.eventFunctionEvaluations += 1
            for value in values where !value.isFinite { throw .nonFiniteEventFunction(time: t) }
        }

        /// The fraction θ ∈ (0, 1] of the step at which the earliest event fires, or nil; marks in
        /// ``eventsLower`` the events whose crossing was bracketed. Each crossing is bracketed
        /// between a point with g < 0 and one with g ≥ 0 and narrowed by the Illinois method on the
        /// dense output; θ is the bracket's g ≥ 0 end, so that the event is applied just after the
        /// crossing.
        private mutating func locateEvent(
            from t: Double, step h: Double, to tNew: Double, denseReady: inout Bool
        ) throws(ODEError) -> Double? {
            guard let events else { return nil }
            var earliest: Double?
            let tolerance = EventRoot.tolerance(from: t, to: tNew, step: h)
            for e in 0..<events.eventCount {
                eventsLower[e] = -1
                guard eventsAfter[e] >= 0 else { continue }
                var lower = 0.0, gLower = eventsBefore[e]
                if !(gLower < 0) {
                    // g ≥ 0 at a restart: its sign just after the start decides.
                    let probe = 100 * tolerance
                    guard restarted, probe < (earliest ?? 1) else { continue }
                    if !denseReady {
                        prepareDenseOutput(step: h)
                        denseReady = true
                    }
                    gLower = try eventValue(e, theta: probe, t: t, h: h)
                    guard gLower < 0 else { continue }
                    lower = probe
                }
                if !denseReady {
                    prepareDenseOutput(step: h)
                    denseReady = true
                }
                var upper = 1.0, gUpper = eventsAfter[e]
                if let bound = earliest {
                    // Only a crossing before the earliest one found so far matters.
                    guard bound > lower else { continue }
                    let g = try eventValue(e, theta: bound, t: t, h: h)
                    guard g >= 0 else { continue }
                    upper = bound
                    gUpper = g
                }
                eventsLower[e] = lower
                earliest = try EventRoot.narrow(lower: lower, gLower: gLower, upper: upper, gUpper: gUpper, tolerance: tolerance) {
                    (theta) throws(ODEError) in try eventValue(e, theta: theta, t: t, h: h)
                }
            }
            return earliest
        }

        /// gₑ at t + θh on the dense output.
        private mutating func eventValue(_ e: Int, theta: Double, t: Double, h: Double) throws(ODEError) -> Double {
            interpolate(theta, into: interpolated)
            try evaluateEvents(at: t + theta * h, state: interpolated, into: eventsTrial)
            return eventsTrial[e]
        }
    }
}
