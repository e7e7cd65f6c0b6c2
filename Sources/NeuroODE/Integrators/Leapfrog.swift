/// The leapfrog / staggered trapezoid scheme for conductance-based systems (SCIENCE.md "Integrators"),
/// the paper's fixed-step method.
///
/// Gates live on half steps and voltages on full steps. Per step, with x∞ and τ evaluated at Vₙ,
///
///     x_{n+½} = (x∞·Δt + (τ − Δt/2)·x_{n−½}) / (τ + Δt/2)        (trapezoid, V frozen)
///     V_{n+1} = (Vₙ(C − Δt·G/2) + Δt·E) / (C + Δt·G/2)            (trapezoid, gates frozen)
///
/// with G, E from the gates x_{n+½}. Each half is linear in its unknown, so the scheme costs as
/// much as an explicit one yet is A-stable in each half: Δt = 0.1 ms is stable for Morris–Lecar
/// and Hodgkin–Huxley.
///
/// **Order.** When G and E depend on V only through the gates (Hodgkin–Huxley, LIF) the scheme is
/// second order. Morris–Lecar's calcium conductance gCa·m∞(V) is instantaneous: the paper (and
/// SCIENCE.md) evaluate it at Vₙ, the start of the voltage step, which makes the scheme only *first*
/// order for such models (measured: self-convergence slope 1.0 on Morris–Lecar, spike times off by
/// 9 ms after a second at Δt = 0.1). The default, ``InstantaneousVoltage/extrapolatedMidpoint``,
/// evaluates instantaneous terms (m∞, and a network's synaptic input T(V)) at
/// V_{n+½} ≈ Vₙ + h/(2h′)·(Vₙ − V_{n−1}) instead (h′ the previous step), which restores second
/// order at no extra cost (slope 1.98, spike times within 0.09 ms); after an event, whose jump
/// breaks the history, one step uses Vₙ. ``InstantaneousVoltage/stepStart`` is the paper's map,
/// kept for reproducing its results.
///
/// Reported states carry the gates at full steps as x̄ₙ = (x_{n−½} + x_{n+½})/2, and the initial
/// stagger is chosen so that x̄₀ equals the given x₀ exactly: x_{−½} = x₀ + Δt/(2τ)·(x₀ − x∞).
/// A span that is not a multiple of Δt ends with one shorter step; the gate step between two
/// voltage steps of lengths h and h′ is then (h + h′)/2. Output at requested times is linear
/// between steps (consistent with the second order). Forward spans only.
///
/// **Events** (``EventSystem``). After each step the event functions are evaluated on the step's
/// interpolant: V linear between Vₙ and V_{n+1}, each gate linear through x̄ₙ at tₙ and x_{n+½} at
/// tₙ + h/2 (both second order, like the scheme). A function that went from < 0 to ≥ 0 is located
/// on it by the Illinois method to 10⁻¹² relative, the root search dopri5 uses. The step is then
/// retaken up to the earliest such time t* and closed there as a solve's last step is, so the
/// pre-event state is what a leapfrog solve to t* computes (and what BPTT's replay of the piece
/// computes); the event is recorded and applied to that reported state, and the integration
/// restarts at t* with a fresh stagger and no voltage history, rejoining the grid at the next grid
/// time. Spike times therefore move continuously with θ, with the scheme's second-order error. As
/// with any step-end test, a function that goes up and back down within one step is not seen.
public struct Leapfrog: Integrator {
    /// The voltage at which membrane coefficients evaluate their instantaneous (non-gate) terms.
    public enum InstantaneousVoltage: String, Sendable, CaseIterable {
        /// Vₙ, the paper's scheme: first order when such terms exist.
        case stepStart
        /// Vₙ linearly extrapolated to the middle of the step: second order.
        case extrapolatedMidpoint
    }

    /// Δt, in the model's time unit (ms for neurons). Second order in Δt (first with
    /// ``InstantaneousVoltage/stepStart`` on models with instantaneous terms); Δt = 0.1 ms is stable.
    public let stepSize: Double
    /// Where instantaneous (non-gate) terms see the voltage.
    public let instantaneousVoltage: InstantaneousVoltage
    /// The arithmetic of the steps: float64 (default) or float32, which only systems with their own
    /// single-precision kernels (``SinglePrecisionLeapfrogSystem``) support. Reported states,
    /// outputs and integrals are float64 either way.
    public let precision: Precision

    /// A fixed-step leapfrog with step `stepSize` (model time unit, ms for neurons). It integrates only
    /// ``ConductanceBasedSystem`` models on forward spans; a step that is not finite and positive, or
    /// longer than the span, is rejected when a solve starts.
    public init(stepSize: Double = 0.1, instantaneousVoltage: InstantaneousVoltage = .extrapolatedMidpoint,
                precision: Precision = .f64) {
        self.stepSize = stepSize
        self.instantaneousVoltage = instantaneousVoltage
        self.precision = precision
    }

    public var name: String { "leapfrog" }

    public func integrate<System: ODESystem>(
        _ problem: ODEProblem<System>, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        guard let system = problem.system as? any ConductanceBasedSystem else {
            throw .unsupported(
                "leapfrog needs a conductance-based system (C dV/dt = E − G·V with gates); \(problem.system.name) is not one: use dopri5 or cvode-bdf")
        }
        _ = try stepCount(from: problem.startTime, to: problem.endTime)
        let extrapolate = instantaneousVoltage == .extrapolatedMidpoint
        if precision == .f32 {
            guard let single = system as? any SinglePrecisionLeapfrogSystem else {
                throw .unsupported("the float32 leapfrog needs single-precision kernels, which \(system.name) does not have: use --precision f64")
            }
            return try single.integrateSinglePrecision(
                initialState: problem.initialState, parameters: problem.parameters, timeSpan: (problem.startTime, problem.endTime),
                stepSize: stepSize, extrapolate: extrapolate, recorder: &recorder)
        }
        return try Self.run(system, problem.initialState, problem.parameters, problem.startTime, problem.endTime,
                            stepSize, extrapolate, &recorder)
    }

    /// The number of steps from `start` to `end`, validating the span and the step: forward only,
    /// with Δt finite, positive and no longer than the span.
    private func stepCount(from start: Double, to end: Double) throws(ODEError) -> Int {
        guard end > start else {
            throw .invalidTimeSpan(start: start, end: end, reason: "leapfrog integrates forward only; use dopri5 or cvode for backward spans")
        }
        guard stepSize.isFinite, stepSize > 0, stepSize <= (end - start) * (1 + 1e-12) else {
            throw .invalidStepSize(stepSize)
        }
        return try FixedStepCount.covering(span: end - start, stepSize: stepSize)
    }

    /// The step grid of a solve from `start` to `end`: t_k = start + k·Δt, the last step shortened
    /// to end exactly at `end`. The times ``integrate(_:recorder:)`` steps through, bit for bit.
    public func grid(from start: Double, to end: Double) throws(ODEError) -> [Double] {
        let steps = try stepCount(from: start, to: end)
        return (0...steps).map { Self.gridTime($0, start, end, stepSize, steps) }
    }

    @inline(__always)
    private static func gridTime(_ k: Int, _ start: Double, _ end: Double, _ dt: Double, _ steps: Int) -> Double {
        k >= steps ? end : start + Double(k) * dt
    }

    private static func run<S: ConductanceBasedSystem>(
        _ system: S, _ y0: [Double], _ parameters: [Double], _ t0: Double, _ tEnd: Double, _ dt: Double,
        _ extrapolate: Bool, _ recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        let n = system.dimension
        let nv = system.voltageCount
        let ng = n - nv
        // Steps: t_k = t0 + k·dt for k < steps, the last one shortened to end exactly at tEnd.
        let steps = try FixedStepCount.covering(span: tEnd - t0, stepSize: dt)
        var statistics = SolverStatistics()
        let events = system as? any EventSystem
        let observing = recorder.observesSteps

        // All scratch is allocated here, once.
        let storage = UnsafeMutableBufferPointer<Double>.allocate(capacity: 6 * n + 3 * ng + 5 * nv)
        defer { storage.deallocate() }
        storage.initialize(repeating: 0)
        func slice(_ offset: Int, _ count: Int) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(rebasing: storage[offset..<(offset + count)])
        }
        var offset = 0
        func take(_ count: Int) -> UnsafeMutableBufferPointer<Double> {
            defer { offset += count }
            return slice(offset, count)
        }
        let state = take(n)        // [V_n | x_{n−½}]
        var previous = take(n)     // reported y_{n−1}
        var current = take(n)      // reported y_n
        let interpolated = take(n)
        let xNew = take(ng), xInf = take(ng), tau = take(ng)
        let conductance = take(nv), drive = take(nv)
        let lastVoltages = take(nv), midpointVoltages = take(nv)  // V_{n−1}; V_{n+½} when extrapolating
        // For events: the reported yₙ at the step's start, and the step's starting state and history,
        // kept to locate an event inside the step and to retake the step up to it.
        let stepStart = take(n), savedState = take(n), savedLastVoltages = take(nv)
        let voltages = UnsafeMutableBufferPointer(rebasing: state[0..<nv])
        let gates = UnsafeMutableBufferPointer(rebasing: state[nv..<n])

        // Plausible ranges, once: ±∞ where the model declares none, so the check costs two
        // comparisons per state and never branches on the model.
        let voltageRange = system.plausibleVoltageRange ?? -Double.infinity...Double.infinity
        let gateRange = system.plausibleGateRange ?? -Double.infinity...Double.infinity

        var eventValuesBefore = [Double](repeating: 0, count: events?.eventCount ?? 0)
        var eventValuesAfter = eventValuesBefore, eventValuesTrial = eventValuesBefore
        var bracketed = [Bool](repeating: false, count: eventValuesBefore.count)

        try parameters.withUnsafeBufferPointer { (p) throws(ODEError) in
            let c = system.capacitance(parameters: p)
            _ = y0.withUnsafeBufferPointer { state.initialize(fromContentsOf: $0) }
            func time(_ k: Int) -> Double { gridTime(k, t0, tEnd, dt, steps) }

            func kinetics(_ t: Double) throws(ODEError) {
                do {
                    try system.evaluateGateKinetics(
                        at: t, voltages: UnsafeBufferPointer(voltages), parameters: p, steadyState: xInf, timeConstant: tau)
                } catch {
                    throw Self.wrap(error, system.name, t)
                }
            }
            /// Advances the gates by `h` with V frozen at V_n (into xNew).
            func advanceGates(_ t: Double, _ h: Double) throws(ODEError) {
                try kinetics(t)
                for i in 0..<ng {
                    xNew[i] = LeapfrogStep.gate(gates[i], steadyState: xInf[i], timeConstant: tau[i], step: h)
                }
            }
            /// The reported state at the current full step: V_n and the mean of the two half-step gates.
            func report(into buffer: UnsafeMutableBufferPointer<Double>) {
                for i in 0..<nv { buffer[i] = voltages[i] }
                for i in 0..<ng { buffer[nv + i] = 0.5 * (gates[i] + xNew[i]) }
            }
            func emitOutputs(_ ta: Double, _ tb: Double) {
                recorder.recordLinearOutputs(
                    from: ta, previous: UnsafeBufferPointer(previous), to: tb, current: UnsafeBufferPointer(current), scratch: interpolated)
            }

            var hPrevious = 0.0
            /// Staggers the gates of `state` (the reported gates at t) for a first step of length h:
            /// x_{−½} = x₀ + h/(2τ)(x₀ − x∞), so that x̄ at t is x₀.
            func stagger(_ t: Double, _ h: Double) throws(ODEError) {
                try kinetics(t)
                for i in 0..<ng { gates[i] = LeapfrogStep.stagger(gates[i], steadyState: xInf[i], timeConstant: tau[i], step: h) }
                hPrevious = h
            }
            try stagger(t0, time(1) - t0)
            _ = y0.withUnsafeBufferPointer { previous.initialize(fromContentsOf: $0) }
            recorder.start(at: t0, state: UnsafeBufferPointer(previous))

            var hasHistory = false  // whether lastVoltages holds V_{n−1} on the current trajectory
            /// The voltage half of the step from t to t1 (the gates already advanced into xNew): V at
            /// t1 into the state, then the gates x_{n+½}.
            func advanceVoltages(_ t: Double, to t1: Double) throws(ODEError) {
                let h = t1 - t
                var instantaneous = voltages
                if extrapolate {
                    let slope = hasHistory ? LeapfrogStep.midpointWeight(step: h, previous: hPrevious) : 0
                    for i in 0..<nv {
                        midpointVoltages[i] = voltages[i] + slope * (voltages[i] - lastVoltages[i])
                        lastVoltages[i] = voltages[i]
                    }
                    instantaneous = midpointVoltages
                    hasHistory = true
                }
                do {
                    try system.evaluateMembraneCoefficients(
                        at: t + 0.5 * h, voltages: UnsafeBufferPointer(instantaneous), gates: UnsafeBufferPointer(xNew),
                        parameters: p, conductance: conductance, drive: drive)
                } catch {
                    throw Self.wrap(error, system.name, t)
                }
                // Non-finite detection by an integer OR over the exponent fields (see `exponentFlag`):
                // unlike a short-circuit `&&`, it leaves both loops vectorisable.
                // The range check likewise or-s a flag instead of branching.
                var flags: UInt64 = 0
                var outside: UInt8 = 0
                for i in 0..<nv {
                    let v = LeapfrogStep.voltage(voltages[i], capacitance: c, conductance: conductance[i], drive: drive[i], step: h)
                    voltages[i] = v
                    flags |= Self.exponentFlag(v)
                    outside |= Self.outsideFlag(v, voltageRange)
                }
                for i in 0..<ng {
                    gates[i] = xNew[i]
                    flags |= Self.exponentFlag(xNew[i])
                    outside |= Self.outsideFlag(xNew[i], gateRange)
                }
                let step = statistics.steps + 1
                guard flags >> 63 == 0 else { throw .nonFiniteState(time: t1, step: step) }
                if outside != 0 {
                    throw Self.implausible(system, UnsafeBufferPointer(state), nv, voltageRange, gateRange, t1, step, dt)
                }
                hPrevious = h
                statistics.steps += 1
                statistics.rightHandSideEvaluations += 1
            }
            /// The state at t + s·h on the step's interpolant, into `interpolated`: V linear between
            /// Vₙ and V_{n+1}, each gate linear through x̄ₙ at t and x_{n+½} at t + h/2. Both are
            /// second-order accurate, like the scheme.
            func interpolate(_ s: Double) {
                for i in 0..<nv { interpolated[i] = stepStart[i] + s * (voltages[i] - stepStart[i]) }
                for i in nv..<n { interpolated[i] = stepStart[i] + 2 * s * (state[i] - stepStart[i]) }
            }

            var t = t0, k = 0            // the current full step's time; the next grid time is time(k + 1)
            var previousTime = t0        // the end of the last step reported (or skipped)
            var pendingReport = false    // whether the reported state at t is still to be observed
            while k < steps {
                let t1 = time(k + 1), h = t1 - t
                let savedHistory = (hasHistory, hPrevious)
                if events != nil {
                    _ = savedState.update(fromContentsOf: state)
                    _ = savedLastVoltages.update(fromContentsOf: lastVoltages)
                }
                try advanceGates(t, LeapfrogStep.gateStep(previous: hPrevious, next: h))
                if observing, pendingReport {
                    if recorder.observes(stepEndingAt: t) {
                        report(into: current)
                        recorder.observeStep(from: previousTime, previous: UnsafeBufferPointer(previous), to: t, current: UnsafeBufferPointer(current))
                        emitOutputs(previousTime, t)
                        swap(&previous, &current)
                    } else {
                        recorder.skipStep()
                    }
                    previousTime = t
                }
                if let events {
                    report(into: stepStart)
                    try Self.evaluateEvents(events, t, UnsafeBufferPointer(stepStart), p, &eventValuesBefore)
                    statistics.eventFunctionEvaluations += 1
                }
                try advanceVoltages(t, to: t1)
                pendingReport = true

                guard let events else {
                    t = t1
                    k += 1
                    continue
                }
                // Events: each crossing (g < 0 at the start, ≥ 0 at the end) is located on the
                // interpolant; the earliest ends the step there.
                interpolate(1)
                try Self.evaluateEvents(events, t1, UnsafeBufferPointer(interpolated), p, &eventValuesAfter)
                statistics.eventFunctionEvaluations += 1
                var earliest: Double?
                let tolerance = EventRoot.tolerance(from: t, to: t1, step: h)
                for e in 0..<bracketed.count {
                    bracketed[e] = eventValuesBefore[e] < 0 && eventValuesAfter[e] >= 0
                    guard bracketed[e] else { continue }
                    var upper = 1.0, gUpper = eventValuesAfter[e]
                    if let bound = earliest {
                        interpolate(bound)
                        try Self.evaluateEvents(events, t + bound * h, UnsafeBufferPointer(interpolated), p, &eventValuesTrial)
                        statistics.eventFunctionEvaluations += 1
                        guard eventValuesTrial[e] >= 0 else { continue }
                        upper = bound
                        gUpper = eventValuesTrial[e]
                    }
                    earliest = try EventRoot.narrow(
                        lower: 0, gLower: eventValuesBefore[e], upper: upper, gUpper: gUpper, tolerance: tolerance
                    ) { (s) throws(ODEError) in
                        interpolate(s)
                        try Self.evaluateEvents(events, t + s * h, UnsafeBufferPointer(interpolated), p, &eventValuesTrial)
                        statistics.eventFunctionEvaluations += 1
                        return eventValuesTrial[e]
                    }
                }
                guard let fraction = earliest else {
                    t = t1
                    k += 1
                    continue
                }
                // The events that fire: those bracketed in the step and ≥ 0 at the located time.
                let tEvent = fraction >= 1 ? t1 : min(max(t + fraction * h, t.nextUp), t1)
                interpolate(fraction)
                try Self.evaluateEvents(events, tEvent, UnsafeBufferPointer(interpolated), p, &eventValuesTrial)
                statistics.eventFunctionEvaluations += 1
                // Retake the step up to the event and close it there as a solve's last step is
                // closed, so the pre-event state is exactly the end of a leapfrog solve to tEvent
                // (what BPTT's replay of the piece computes).
                if tEvent < t1 {
                    _ = state.update(fromContentsOf: savedState)
                    _ = lastVoltages.update(fromContentsOf: savedLastVoltages)
                    (hasHistory, hPrevious) = savedHistory
                    try advanceGates(t, LeapfrogStep.gateStep(previous: hPrevious, next: tEvent - t))
                    try advanceVoltages(t, to: tEvent)
                }
                try advanceGates(tEvent, hPrevious)
                report(into: current)
                if observing {
                    if recorder.observes(stepEndingAt: tEvent) {
                        recorder.observeStep(from: previousTime, previous: UnsafeBufferPointer(previous), to: tEvent, current: UnsafeBufferPointer(current))
                        emitOutputs(previousTime, tEvent)
                    } else {
                        recorder.skipStep()
                    }
                }
                for e in 0..<bracketed.count where bracketed[e] && eventValuesTrial[e] >= 0 {
                    recorder.recordEvent(e, at: tEvent)
                    events.applyEvent(e, at: tEvent, state: current, parameters: p)
                    statistics.events += 1
                }
                // Restart from the reset state: a new stagger, no voltage history.
                swap(&previous, &current)
                previousTime = tEvent
                _ = state.update(fromContentsOf: previous)
                t = tEvent
                if t == t1 { k += 1 }
                hasHistory = false
                pendingReport = false
                if k < steps { try stagger(t, time(k + 1) - t) }
            }
            if pendingReport {
                // Close the last step: the gates one more (virtual) half step ahead give x̄ at tEnd.
                try advanceGates(tEnd, hPrevious)
                report(into: current)
                if observing, !recorder.observes(stepEndingAt: tEnd) {
                    recorder.skipStep()
                } else if observing {
                    recorder.observeStep(from: previousTime, previous: UnsafeBufferPointer(previous), to: tEnd, current: UnsafeBufferPointer(current))
                    emitOutputs(previousTime, tEnd)
                }
            } else {
                // An event at tEnd: its reset state ends the solve.
                _ = current.update(fromContentsOf: previous)
            }
            recorder.complete(at: tEnd, state: UnsafeBufferPointer(current))
        }
        return statistics
    }

    private static func evaluateEvents(
        _ system: some EventSystem, _ t: Double, _ state: UnsafeBufferPointer<Double>,
        _ p: UnsafeBufferPointer<Double>, _ values: inout [Double]
    ) throws(ODEError) {
        do {
            try values.withUnsafeMutableBufferPointer { buffer in
                try system.evaluateEventFunctions(at: t, state: state, parameters: p, into: buffer)
            }
        } catch {
            throw wrap(error, system.name, t)
        }
        guard values.allSatisfy(\.isFinite) else { throw .nonFiniteEventFunction(time: t) }
    }

    /// The error for the first state (voltages first, then gates, as in the state layout) outside
    /// the system's plausible ranges, or nil when every state is inside. `t` and `step` are where
    /// the step that produced `state` ended. Used by the leapfrog and by its differentiable map.
    public static func implausibility(
        of system: some ConductanceBasedSystem, state: UnsafeBufferPointer<Double>, time t: Double, step: Int, stepSize dt: Double
    ) -> ODEError? {
        let voltageRange = system.plausibleVoltageRange ?? -Double.infinity...Double.infinity
        let gateRange = system.plausibleGateRange ?? -Double.infinity...Double.infinity
        let nv = system.voltageCount
        var outside: UInt8 = 0
        for i in 0..<nv { outside |= outsideFlag(state[i], voltageRange) }
        for i in nv..<state.count { outside |= outsideFlag(state[i], gateRange) }
        return outside != 0 ? implausible(system, state, nv, voltageRange, gateRange, t, step, dt) : nil
    }

    /// 1 when `x` lies outside `range`, else 0, without a branch.
    @inline(__always)
    private static func outsideFlag(_ x: Double, _ range: ClosedRange<Double>) -> UInt8 {
        (x < range.lowerBound ? 1 : 0) | (x > range.upperBound ? 1 : 0)
    }

    /// The error for the first state outside its range (called once, when the step loop found one).
    static func implausible(
        _ system: some ConductanceBasedSystem, _ state: UnsafeBufferPointer<Double>, _ nv: Int,
        _ voltageRange: ClosedRange<Double>, _ gateRange: ClosedRange<Double>, _ t: Double, _ step: Int, _ dt: Double
    ) -> ODEError {
        let names = system.stateNames
        for i in state.indices {
            let range = i < nv ? voltageRange : gateRange
            if !range.contains(state[i]) {
                return .implausibleState(
                    model: system.name, state: i < names.count ? names[i] : "y[\(i)]", value: state[i], range: range,
                    time: t, step: step, stepSize: dt)
            }
        }
        return .nonFiniteState(time: t, step: step)
    }

    /// Bit 63 set exactly when `x` is NaN or ±∞: its exponent field is all ones, and adding one to
    /// the field carries into the sign position.
    @inline(__always)
    private static func exponentFlag(_ x: Double) -> UInt64 {
        (x.bitPattern & 0x7FF0_0000_0000_0000) &+ 0x0010_0000_0000_0000
    }

    private static func wrap(_ error: any Error, _ model: String, _ t: Double) -> ODEError {
        (error as? ODEError) ?? .rightHandSideFailed(model: model, time: t, reason: "\(error)")
    }
}
