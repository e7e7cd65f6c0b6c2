import NeuroODE

/// The leapfrog (staggered trapezoid) scheme of `Leapfrog` as a ``DiscreteForwardMap``:
/// the same grid and the same arithmetic (``LeapfrogStep``, which defines the step and its pullback
/// once), so BPTT differentiates exactly what the integrator computes. Internal state
/// zₙ = (Vₙ, x_{n−½}) and, for the extrapolated-midpoint variant, V_{n−1} too; reported
/// yₙ = (Vₙ, (x_{n−½} + x_{n+½})/2). Events are not part of the map: a trajectory with resets is
/// one map per smooth piece between them (``EventGradient``), each on its own grid.
///
/// A class because it owns the scratch buffers the steps reuse; one instance serves one gradient
/// evaluation on one thread.
///
/// The element-wise loops run over raw pointers taken once per call (`UnsafeMutablePointer`
/// locals rather than the class's buffer properties, offsets added to the base rather than to
/// the index): that lets the compiler vectorise them, which it cannot do while every access
/// reloads a property and checks an index sum for overflow.
public final class LeapfrogMap<System: ConductanceBasedPullbacks>: DiscreteForwardMap {
    /// The conductance-based system the map steps.
    public let system: System
    public let dimension: Int
    public let stepCount: Int
    private let voltageCount: Int
    private let gateCount: Int
    /// t₀ < t₁ < … < t_N.
    private let times: [Double]
    /// The integrator's Δt, for messages.
    private let stepSize: Double
    private let extrapolates: Bool
    private let initialState: [Double]
    private let parameters: UnsafeMutableBufferPointer<Double>
    private let scratch: UnsafeMutableBufferPointer<Double>
    // Views into `scratch`.
    private let xInf, tau, xNew, xInfBar, tauBar, gateBarNew, gateBarOld: UnsafeMutableBufferPointer<Double>
    private let conductance, drive, nextVoltage, conductanceBar, driveBar, voltageBar: UnsafeMutableBufferPointer<Double>
    private let midpointVoltage, midpointBar: UnsafeMutableBufferPointer<Double>
    private let pullbackScratch: UnsafeMutableBufferPointer<Double>
    private let reported, reportedBar: UnsafeMutableBufferPointer<Double>

    /// Builds the map for `problem` on the grid of `integrator` (validated as the integrator does).
    /// A system with events is refused: its resets are not part of one map.
    public convenience init(problem: ODEProblem<System>, integrator: Leapfrog) throws(ODEError) {
        guard !(problem.system is any EventSystem) else {
            throw .unsupported("BPTT through the leapfrog does not differentiate events (\(problem.system.name) has them)")
        }
        try self.init(problem: problem, grid: integrator.grid(from: problem.startTime, to: problem.endTime), integrator: integrator)
    }

    /// Builds the map for `problem` on the increasing grid `times` (t₀ = the problem's start, the
    /// last the problem's end), with the variant of `integrator`: the steps between two events of
    /// a forward leapfrog solve, say.
    public init(problem: ODEProblem<System>, grid times: [Double], integrator: Leapfrog) throws(ODEError) {
        guard times.count >= 2, times.first == problem.startTime, times.last == problem.endTime,
              zip(times, times.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw .invalidOutputTimes(reason: "a leapfrog grid runs forward from the start of the span to its end")
        }
        stepSize = integrator.stepSize
        self.times = times
        stepCount = times.count - 1
        system = problem.system
        extrapolates = integrator.instantaneousVoltage == .extrapolatedMidpoint
        dimension = system.dimension
        voltageCount = system.voltageCount
        gateCount = dimension - voltageCount
        initialState = problem.initialState
        parameters = .allocate(capacity: problem.parameters.count)
        _ = parameters.initialize(from: problem.parameters)
        let ng = gateCount, nv = voltageCount, n = dimension
        let extra = problem.system.pullbackScratchCount
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 7 * ng + 8 * nv + 2 * n + extra)
        buffer.initialize(repeating: 0)
        scratch = buffer
        var offset = 0
        func take(_ count: Int) -> UnsafeMutableBufferPointer<Double> {
            defer { offset += count }
            return UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + count)])
        }
        xInf = take(ng); tau = take(ng); xNew = take(ng); xInfBar = take(ng); tauBar = take(ng)
        gateBarNew = take(ng); gateBarOld = take(ng)
        conductance = take(nv); drive = take(nv); nextVoltage = take(nv)
        conductanceBar = take(nv); driveBar = take(nv); voltageBar = take(nv)
        midpointVoltage = take(nv); midpointBar = take(nv)
        pullbackScratch = take(extra)
        reported = take(n); reportedBar = take(n)
    }

    deinit {
        parameters.deallocate()
        scratch.deallocate()
    }

    public var internalSize: Int { extrapolates ? dimension + voltageCount : dimension }
    public var parameterCount: Int { parameters.count }
    public var rightHandSidesPerStep: Int { 1 }

    public func time(_ n: Int) -> Double { times[n] }

    private func length(_ n: Int) -> Double { times[n + 1] - times[n] }
    /// The gate step that precedes voltage step n: the mean of the two voltage steps around it.
    private func gateLength(_ n: Int) -> Double { LeapfrogStep.gateStep(previous: length(max(n - 1, 0)), next: length(n)) }

    private var p: UnsafeBufferPointer<Double> { UnsafeBufferPointer(parameters) }
    private func voltages(_ z: UnsafeBufferPointer<Double>) -> UnsafeBufferPointer<Double> {
        UnsafeBufferPointer(rebasing: z[0..<voltageCount])
    }

    private func kinetics(_ t: Double, _ v: UnsafeBufferPointer<Double>) throws(ODEError) {
        do {
            try system.evaluateGateKinetics(at: t, voltages: v, parameters: p, steadyState: xInf, timeConstant: tau)
        } catch {
            throw (error as? ODEError) ?? .rightHandSideFailed(model: system.name, time: t, reason: "\(error)")
        }
    }

    /// The extrapolation weight s of step n: instantaneous terms see Vₙ + s(Vₙ − V_{n−1}).
    private func slope(_ n: Int) -> Double {
        extrapolates && n > 0 ? LeapfrogStep.midpointWeight(step: length(n), previous: length(n - 1)) : 0
    }

    /// Writes the voltages the instantaneous terms of step n see into `midpointVoltage`.
    private func instantaneousVoltages(_ n: Int, _ z: UnsafeBufferPointer<Double>) -> UnsafeBufferPointer<Double> {
        let s = slope(n), v = z.baseAddress!, out = midpointVoltage.baseAddress!
        if s == 0 {
            out.update(from: v, count: voltageCount)
        } else {
            let previous = v + dimension
            for i in 0..<voltageCount { out[i] = v[i] + s * (v[i] - previous[i]) }
        }
        return UnsafeBufferPointer(midpointVoltage)
    }

    private func coefficients(_ t: Double, _ v: UnsafeBufferPointer<Double>) throws(ODEError) {
        do {
            try system.evaluateMembraneCoefficients(
                at: t, voltages: v, gates: UnsafeBufferPointer(xNew), parameters: p, conductance: conductance, drive: drive)
        } catch {
            throw (error as? ODEError) ?? .rightHandSideFailed(model: system.name, time: t, reason: "\(error)")
        }
    }

    /// xNew = trapezoid gate step of length `h` from the gates in z, with V frozen (kinetics already evaluated).
    private func advanceGates(_ z: UnsafeBufferPointer<Double>, _ h: Double) {
        let x = z.baseAddress! + voltageCount, xInf = xInf.baseAddress!, tau = tau.baseAddress!, xNew = xNew.baseAddress!
        for i in 0..<gateCount {
            xNew[i] = LeapfrogStep.gate(x[i], steadyState: xInf[i], timeConstant: tau[i], step: h)
        }
    }

    private func report(_ z: UnsafeBufferPointer<Double>, into y: UnsafeMutableBufferPointer<Double>) {
        let v = z.baseAddress!, out = y.baseAddress!, x = v + voltageCount, xNew = xNew.baseAddress!
        out.update(from: v, count: voltageCount)
        let gatesOut = out + voltageCount
        for i in 0..<gateCount { gatesOut[i] = 0.5 * (x[i] + xNew[i]) }
    }

    public func initialize(into z: UnsafeMutableBufferPointer<Double>) throws(ODEError) {
        _ = initialState.withUnsafeBufferPointer { z.initialize(fromContentsOf: $0) }
        for i in dimension..<internalSize { z[i] = z[i - dimension] }
        try kinetics(times[0], voltages(UnsafeBufferPointer(z)))
        let h = length(0)
        for i in 0..<gateCount {
            z[voltageCount + i] = LeapfrogStep.stagger(z[voltageCount + i], steadyState: xInf[i], timeConstant: tau[i], step: h)
        }
    }

    public func step(
        _ n: Int, from z: UnsafeBufferPointer<Double>, to next: UnsafeMutableBufferPointer<Double>,
        reporting y: UnsafeMutableBufferPointer<Double>
    ) throws(ODEError) {
        let t = time(n), h = length(n)
        try kinetics(t, voltages(z))
        advanceGates(z, gateLength(n))
        report(z, into: y)
        try coefficients(t + 0.5 * h, instantaneousVoltages(n, z))
        let c = system.capacitance(parameters: p)
        let v = z.baseAddress!, out = next.baseAddress!
        let conductance = conductance.baseAddress!, drive = drive.baseAddress!
        (out + dimension).update(from: v, count: internalSize - dimension)
        for i in 0..<voltageCount {
            out[i] = LeapfrogStep.voltage(v[i], capacitance: c, conductance: conductance[i], drive: drive[i], step: h)
        }
        (out + voltageCount).update(from: xNew.baseAddress!, count: gateCount)
        guard Self.allFinite(out, count: dimension) else { throw .nonFiniteState(time: time(n + 1), step: n + 1, model: system.name) }
        if let error = Leapfrog.implausibility(
            of: system, state: UnsafeBufferPointer(start: out, count: dimension), time: time(n + 1), step: n + 1, stepSize: stepSize) {
            throw error
        }
    }

    /// Whether `count` values are all finite, by a branch-free integer scan that vectorises: adding
    /// one to the exponent field carries into the sign bit exactly when the exponent is all ones
    /// (±∞ and NaN), and the results are or-ed together.
    static func allFinite(_ values: UnsafePointer<Double>, count: Int) -> Bool {
        let exponent: UInt64 = 0x7FF0_0000_0000_0000, one: UInt64 = 0x0010_0000_0000_0000
        var carries: UInt64 = 0
        for i in 0..<count { carries |= (values[i].bitPattern & exponent) &+ one }
        return carries & (1 << 63) == 0
    }

    public func terminalReport(from z: UnsafeBufferPointer<Double>, reporting y: UnsafeMutableBufferPointer<Double>) throws(ODEError) {
        try kinetics(times[stepCount], voltages(z))
        advanceGates(z, length(stepCount - 1))
        report(z, into: y)
    }

    /// Adds the pullback of a trapezoid gate step of length h (gates of z → xNew) given x̄New in
    /// `gateBarNew`: into x̄Old (`gateBarOld`), and through x∞, τ into V̄ and θ̄.
    private func pullbackGateStep(
        _ t: Double, _ z: UnsafeBufferPointer<Double>, _ h: Double, _ parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        let x = z.baseAddress! + voltageCount, tau = tau.baseAddress!, xNew = xNew.baseAddress!
        let barNew = gateBarNew.baseAddress!, barOld = gateBarOld.baseAddress!
        let steadyBar = xInfBar.baseAddress!, timeBar = tauBar.baseAddress!
        for i in 0..<gateCount {
            let bar = LeapfrogStep.gatePullback(barNew[i], gate: x[i], next: xNew[i], timeConstant: tau[i], step: h)
            barOld[i] += bar.gate
            steadyBar[i] = bar.steadyState
            timeBar[i] = bar.timeConstant
        }
        system.accumulateGateKineticsPullback(
            at: t, voltages: voltages(z), parameters: p, steadyStateCotangent: UnsafeBufferPointer(xInfBar),
            timeConstantCotangent: UnsafeBufferPointer(tauBar), voltageCotangent: voltageBar,
            parameterCotangent: parameterCotangent)
    }

    public func pullbackStep(
        _ n: Int, from z: UnsafeBufferPointer<Double>, cotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>,
        seed: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) throws(ODEError) {
        let t = time(n), h = length(n), hGate = gateLength(n)
        // Recompute the forward internals of step n.
        try kinetics(t, voltages(z))
        advanceGates(z, hGate)
        report(z, into: reported)
        let instantaneous = instantaneousVoltages(n, z)
        try coefficients(t + 0.5 * h, instantaneous)
        let c = system.capacitance(parameters: p)
        reportedBar.initialize(repeating: 0)
        seed(UnsafeBufferPointer(reported), reportedBar)

        // Voltage step: V' = (V(C − hG/2) + hE)/(C + hG/2).
        let nv = voltageCount, ng = gateCount
        let v = z.baseAddress!, bar = cotangent.baseAddress!, yBar = reportedBar.baseAddress!
        let conductance = conductance.baseAddress!, drive = drive.baseAddress!
        let vBar = voltageBar.baseAddress!, gBar = conductanceBar.baseAddress!, eBar = driveBar.baseAddress!
        // C̄'s terms are staged (in the otherwise unused `nextVoltage`) and summed in order after
        // the loop, whose body then carries no dependency and vectorises.
        let capacitanceTerms = nextVoltage.baseAddress!
        // The history slot of z_{n+1} holds Vₙ itself.
        if extrapolates {
            vBar.update(from: bar + dimension, count: nv)
        } else {
            vBar.update(repeating: 0, count: nv)
        }
        for i in 0..<nv {
            let g = conductance[i]
            let vNext = LeapfrogStep.voltage(v[i], capacitance: c, conductance: g, drive: drive[i], step: h)
            let pulled = LeapfrogStep.voltagePullback(bar[i], voltage: v[i], next: vNext, capacitance: c, conductance: g, step: h)
            vBar[i] = pulled.voltage + yBar[i] + vBar[i]
            gBar[i] = pulled.conductance
            eBar[i] = pulled.drive
            capacitanceTerms[i] = pulled.capacitance
        }
        var capacitanceBar = 0.0
        for i in 0..<nv { capacitanceBar += capacitanceTerms[i] }
        let gateBar = bar + nv, gateYBar = yBar + nv
        let barNew = gateBarNew.baseAddress!, barOld = gateBarOld.baseAddress!
        for i in 0..<ng {
            let half = 0.5 * gateYBar[i]
            barNew[i] = gateBar[i] + half
            barOld[i] = half
        }
        midpointBar.initialize(repeating: 0)
        system.accumulateMembraneCoefficientsPullback(
            at: t + 0.5 * h, voltages: instantaneous, gates: UnsafeBufferPointer(xNew), parameters: p,
            conductanceCotangent: UnsafeBufferPointer(conductanceBar), driveCotangent: UnsafeBufferPointer(driveBar),
            voltageCotangent: midpointBar, gateCotangent: gateBarNew, parameterCotangent: parameterCotangent,
            scratch: pullbackScratch)
        let s = slope(n), midBar = midpointBar.baseAddress!
        for i in 0..<nv { vBar[i] += (1 + s) * midBar[i] }
        system.accumulateCapacitancePullback(parameters: p, cotangent: capacitanceBar, parameterCotangent: parameterCotangent)
        pullbackGateStep(t, z, hGate, parameterCotangent)
        bar.update(from: vBar, count: nv)
        gateBar.update(from: barOld, count: ng)
        let historyBar = bar + dimension
        for i in 0..<(internalSize - dimension) { historyBar[i] = -s * midBar[i] }
    }

    public func pullbackTerminalReport(
        from z: UnsafeBufferPointer<Double>, cotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>,
        seed: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) throws(ODEError) {
        let h = length(stepCount - 1)
        try kinetics(times[stepCount], voltages(z))
        advanceGates(z, h)
        report(z, into: reported)
        reportedBar.initialize(repeating: 0)
        seed(UnsafeBufferPointer(reported), reportedBar)
        for i in 0..<voltageCount { voltageBar[i] = reportedBar[i] }
        for i in 0..<gateCount {
            gateBarNew[i] = 0.5 * reportedBar[voltageCount + i]
            gateBarOld[i] = gateBarNew[i]
        }
        pullbackGateStep(times[stepCount], z, h, parameterCotangent)
        for i in 0..<voltageCount { cotangent[i] = voltageBar[i] }
        for i in 0..<gateCount { cotangent[voltageCount + i] = gateBarOld[i] }
        for i in dimension..<internalSize { cotangent[i] = 0 }
    }

    public func pullbackInitialize(
        cotangent: UnsafeBufferPointer<Double>, initialStateCotangent: UnsafeMutableBufferPointer<Double>?,
        parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws(ODEError) {
        // z₀ = (V₀, x_{−½}[, V₀]) with x_{−½} = x₀ + h/(2τ)(x₀ − x∞) and x∞, τ at V₀.
        let h = length(0)
        try initialState.withUnsafeBufferPointer { (y0) throws(ODEError) in
            try kinetics(times[0], voltages(y0))
            for i in 0..<gateCount {
                let pulled = LeapfrogStep.staggerPullback(
                    cotangent[voltageCount + i], gate: y0[voltageCount + i], steadyState: xInf[i], timeConstant: tau[i], step: h)
                gateBarOld[i] = pulled.gate
                xInfBar[i] = pulled.steadyState
                tauBar[i] = pulled.timeConstant
            }
            voltageBar.initialize(repeating: 0)
            system.accumulateGateKineticsPullback(
                at: times[0], voltages: voltages(y0), parameters: p, steadyStateCotangent: UnsafeBufferPointer(xInfBar),
                timeConstantCotangent: UnsafeBufferPointer(tauBar), voltageCotangent: voltageBar,
                parameterCotangent: parameterCotangent)
        }
        guard let out = initialStateCotangent else { return }
        for i in 0..<voltageCount {
            out[i] = cotangent[i] + voltageBar[i] + (extrapolates ? cotangent[dimension + i] : 0)
        }
        for i in 0..<gateCount { out[voltageCount + i] = gateBarOld[i] }
    }
}

/// The leapfrog's steps for BPTT: ``LeapfrogMap`` on the integrator's own grid.
extension Leapfrog: DifferentiableStepper {
    public func stepGrid<System: ODESystem>(for problem: ODEProblem<System>, observationTimes: [Double]) throws -> [Double] {
        try grid(from: problem.startTime, to: problem.endTime)
    }

    public func forwardMap<System: ODESystem>(for problem: ODEProblem<System>, grid: [Double]) throws -> any DiscreteForwardMap {
        guard let system = problem.system as? any ConductanceBasedPullbacks else {
            throw TrainingError.unsupported(
                "bptt through the leapfrog needs the conductance pullbacks (ConductanceBasedPullbacks) of the model; \(problem.system.name) has none: use dopri5")
        }
        return try map(system, problem, grid)
    }

    private func map<C: ConductanceBasedPullbacks, S>(_ system: C, _ problem: ODEProblem<S>, _ grid: [Double]) throws -> any DiscreteForwardMap {
        try LeapfrogMap(
            problem: ODEProblem(system: system, initialState: problem.initialState, parameters: problem.parameters,
                                timeSpan: (problem.startTime, problem.endTime)),
            grid: grid, integrator: self)
    }

    public var pullsBackThroughRightHandSide: Bool { false }
    public var hasFixedGrid: Bool { true }
    public var locatesEvents: Bool { true }
    public var sumsRunningCostsOverSteps: Bool { true }
}
