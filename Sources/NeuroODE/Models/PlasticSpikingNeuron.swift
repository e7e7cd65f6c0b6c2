import Foundation

/// A conductance-based leaky integrate-and-fire neuron whose inhibitory synapses learn by a
/// spike-timing rule of the trace family (docs/SCIENCE.md "Plasticity rule families"; README
/// "Plastic networks"), driven by G input groups, each an excitatory and an inhibitory spike train.
///
///     τ_m dV/dt = (V_rest − V) + g_E (E_E − V) + g_I (E_I − V)      (held at V_reset while refractory)
///     τ_E dg_E/dt = −g_E,   τ_I dg_I/dt = −g_I,   τ_pre dx_g/dt = −x_g,   τ_post dy/dt = −y
///
/// with Vogels et al. (2011)'s constants: τ_m = 20 ms, V_rest = V_reset = −60 mV, E_E = 0 mV,
/// E_I = −80 mV, V_th = −50 mV, t_ref = 5 ms, τ_E = 5 ms, τ_I = 10 ms; conductances in units of
/// the leak conductance. An excitatory spike of group g adds the fixed weight w_E,g to g_E. An
/// inhibitory spike of group g adds the plastic weight w_g to g_I, adds 1 to the presynaptic trace
/// x_g and changes the weight by **Δw_g = η(α + κ y)**; a postsynaptic spike adds 1 to the
/// postsynaptic trace y and changes every inhibitory weight by **Δw_g = η(β + γ x_g)**. Weights are
/// clipped at 0 after each change (as in Vogels et al.; an inhibitory conductance cannot be
/// negative). Vogels' inhibitory STDP rule is κ = γ = 1, β = 0, α = −2ρ₀τ (ρ₀ the target rate,
/// τ = τ_pre = τ_post = 20 ms): ``vogelsRule(targetRate:)``.
///
/// One synapse per group: a group's inhibitory train is the superposition of its inhibitory
/// neurons' spikes, and w_g their common weight (identical synapses see identical statistics; the
/// group's rate sets the size of each update relative to η).
///
/// **Everything is state or an event**, so the learning process is an ODE with resets and every
/// integrator and gradient method applies (BPTT and the partial adjoint through the events by
/// ``DifferentiableEventSystem``). Events: (0) V reaches V_th: the postsynaptic spike; (1) the
/// refractory period ends (t = the release time kept in the state); (2) the next input spike of the
/// merged, strictly increasing list (its cursor kept in the state); (3) the scoring window opens at
/// t = `windowStart`: the accumulators restart from 0. Input spikes are events at known times
/// (g = t − s), so dopri5 ends a step at each and their jumps are exact.
///
/// **Scoring accumulators** for a meta-loss read at the end of the run: a rate filter
/// τ_r dr/dt = −r with r += 1/τ_r per postsynaptic spike (τ_r = 20 ms, independent of the rule),
/// its integral R = ∫r dt (≈ the spike count, and smooth in the spike times), and Z_g = ∫w_g dt,
/// all integrated from `windowStart`.
///
/// State: `V, gE, gI, y, refractory, release, cursor, r, R`, then `x0…`, `w0…`, `Z0…` (G each);
/// `refractory` is 1 while refractory, else 0. Parameters: `alpha, beta, kappa, gamma, eta,
/// tau_pre, tau_post` (η dimensionless per update, τ in ms). The right-hand side, its pullback
/// and the events allocate nothing.
public struct PlasticSpikingNeuron: DifferentiableEventSystem, VectorJacobianProviding {
    /// τ_m (ms), V_rest = V_reset (mV), E_E, E_I, V_th (mV), t_ref, τ_E, τ_I, τ_r (ms).
    public static let membraneTimeConstant = 20.0, rest = -60.0, excitatoryReversal = 0.0, inhibitoryReversal = -80.0,
        threshold = -50.0, refractoryPeriod = 5.0, excitatoryTimeConstant = 5.0, inhibitoryTimeConstant = 10.0,
        rateFilterTimeConstant = 20.0
    /// The rule's parameter names in vector order.
    public static let parameterNames = ["alpha", "beta", "kappa", "gamma", "eta", "tau_pre", "tau_post"]

    /// G, the input groups (and plastic weights).
    public let groups: Int
    /// w_E,g, the fixed excitatory weights per group (units of the leak conductance).
    public let excitatoryWeights: [Double]
    /// Every input spike time (ms), strictly increasing and after t = 0, where runs start (a spike
    /// at or before the start would never cross its event function).
    public let inputTimes: [Double]
    /// The channel of each input spike: g < G is group g's excitatory train, G + g its inhibitory one.
    public let inputChannels: [Int32]
    /// Where the scoring accumulators restart from 0 (ms).
    public let windowStart: Double
    /// The inhibitory weights at t = 0 (the default initial state).
    public let initialWeights: [Double]
    public let defaultParameters: [Double]

    /// The point of the family that is Vogels et al. (2011)'s rule for target rate ρ₀ (Hz), with
    /// τ_pre = τ_post = 20 ms: (α, β, κ, γ) = (−2ρ₀τ, 0, 1, 1).
    public static func vogelsRule(targetRate: Double) -> [Double] {
        [-2 * targetRate * 1e-3 * 20, 0, 1, 1]
    }

    /// A neuron of `excitatoryWeights.count` groups driven by `inputTimes` (ms, strictly
    /// increasing) on `inputChannels`, inhibitory weights starting at `initialWeights`, learning by
    /// `rule` (α, β, κ, γ) at rate `eta` with trace time constants `tracesTimeConstant` (ms), the
    /// accumulators restarting at `windowStart`. Throws ``ODEError`` naming the first bad value.
    public init(
        excitatoryWeights: [Double], inputTimes: [Double], inputChannels: [Int32], initialWeights: [Double], windowStart: Double,
        rule: [Double] = vogelsRule(targetRate: 5), eta: Double = 1e-3, tracesTimeConstant: Double = 20
    ) throws(ODEError) {
        let groups = excitatoryWeights.count
        guard groups >= 1 else { throw .dimensionMismatch(what: "input groups of a plastic spiking neuron", expected: 1, actual: 0) }
        guard initialWeights.count == groups else {
            throw .dimensionMismatch(what: "initial inhibitory weights", expected: groups, actual: initialWeights.count)
        }
        guard inputChannels.count == inputTimes.count else {
            throw .dimensionMismatch(what: "input spike channels", expected: inputTimes.count, actual: inputChannels.count)
        }
        guard rule.count == 4 else { throw .dimensionMismatch(what: "rule coefficients (alpha, beta, kappa, gamma)", expected: 4, actual: rule.count) }
        for (name, values) in [("excitatory weight", excitatoryWeights), ("initial inhibitory weight", initialWeights)] {
            if let bad = values.first(where: { !($0.isFinite && $0 >= 0) }) {
                throw .invalidParameter(name: name, value: bad, reason: "must be finite and non-negative")
            }
        }
        if let bad = inputTimes.first(where: { !($0.isFinite && $0 > 0) }) {
            throw .invalidParameter(name: "input spike time", value: bad, reason: "must be finite and after the start of the run (t = 0)")
        }
        if let k = inputTimes.indices.dropFirst().first(where: { !(inputTimes[$0] > inputTimes[$0 - 1]) }) {
            throw .invalidParameter(name: "input spike time", value: inputTimes[k], reason: "input spikes must be strictly increasing (after \(inputTimes[k - 1]))")
        }
        if let bad = inputChannels.first(where: { !(0..<Int32(2 * groups)).contains($0) }) {
            throw .invalidParameter(name: "input channel", value: Double(bad), reason: "must lie in 0 ..< \(2 * groups) (2 per group)")
        }
        guard windowStart.isFinite else { throw .invalidParameter(name: "windowStart", value: windowStart, reason: "must be finite") }
        self.groups = groups
        self.excitatoryWeights = excitatoryWeights
        self.inputTimes = inputTimes
        self.inputChannels = inputChannels
        self.initialWeights = initialWeights
        self.windowStart = windowStart
        defaultParameters = rule + [eta, tracesTimeConstant, tracesTimeConstant]
    }

    public var name: String { "plastic-spiking" }
    public var dimension: Int { Self.fixedStates + 3 * groups }
    public var parameterNames: [String] { Self.parameterNames }
    public var stateNames: [String] {
        ["V", "gE", "gI", "y", "refractory", "release", "cursor", "r", "R"]
            + (0..<groups).map { "x\($0)" } + (0..<groups).map { "w\($0)" } + (0..<groups).map { "Z\($0)" }
    }
    public var voltageIndices: [Int] { [0] }
    /// At rest, no conductance, traces at 0, not refractory, cursor at the first input spike.
    public var defaultInitialState: [Double] {
        [Self.rest, 0, 0, 0, 0, 0, 0, 0, 0] + [Double](repeating: 0, count: groups) + initialWeights
            + [Double](repeating: 0, count: groups)
    }

    /// The entries before the per-group ones, and where each group block starts.
    static let fixedStates = 9
    public var traceIndex: Int { Self.fixedStates }
    public var weightIndex: Int { Self.fixedStates + groups }
    public var weightIntegralIndex: Int { Self.fixedStates + 2 * groups }
    /// The index of R = ∫r dt.
    public static let rateIntegralIndex = 8

    /// τ_pre, τ_post > 0.
    public func validate(parameters p: [Double]) throws(ODEError) {
        for k in 5...6 where !(p[k] > 0) {
            throw .invalidParameter(name: Self.parameterNames[k], value: p[k], reason: "a trace time constant must be positive")
        }
    }

    /// Δw/η for one presynaptic and one postsynaptic spike at delay Δt = t_post − t_pre (ms), from
    /// traces at 0, for rule (α, β, κ, γ) and trace time constants: α + β + γ e^(−Δt/τ_pre) when
    /// the presynaptic spike comes first (Δt ≥ 0), α + β + κ e^(Δt/τ_post) otherwise. The paper's
    /// learning window (Vogels et al. 2011, Fig. 1): e^(−|Δt|/τ) − 2ρ₀τ for Vogels' rule.
    public static func pairWeightChange(delay: Double, rule: [Double], preTimeConstant: Double = 20, postTimeConstant: Double = 20) -> Double {
        delay >= 0 ? rule[0] + rule[1] + rule[3] * exp(-delay / preTimeConstant) : rule[0] + rule[1] + rule[2] * exp(delay / postTimeConstant)
    }

    // MARK: Flow

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        let v = y[0], gE = y[1], gI = y[2]
        dydt[0] = y[4] > 0.5 ? 0
            : ((Self.rest - v) + gE * (Self.excitatoryReversal - v) + gI * (Self.inhibitoryReversal - v)) / Self.membraneTimeConstant
        dydt[1] = -gE / Self.excitatoryTimeConstant
        dydt[2] = -gI / Self.inhibitoryTimeConstant
        dydt[3] = -y[3] / p[6]
        dydt[4] = 0
        dydt[5] = 0
        dydt[6] = 0
        dydt[7] = -y[7] / Self.rateFilterTimeConstant
        dydt[8] = y[7]
        let x = traceIndex, w = weightIndex, z = weightIntegralIndex
        for g in 0..<groups {
            dydt[x + g] = -y[x + g] / p[5]
            dydt[w + g] = 0
            dydt[z + g] = y[w + g]
        }
    }

    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent yBar: UnsafeMutableBufferPointer<Double>, parameterCotangent pBar: UnsafeMutableBufferPointer<Double>
    ) {
        if !(y[4] > 0.5) {
            let a = lambda[0] / Self.membraneTimeConstant, v = y[0]
            yBar[0] -= a * (1 + y[1] + y[2])
            yBar[1] += a * (Self.excitatoryReversal - v)
            yBar[2] += a * (Self.inhibitoryReversal - v)
        }
        yBar[1] -= lambda[1] / Self.excitatoryTimeConstant
        yBar[2] -= lambda[2] / Self.inhibitoryTimeConstant
        yBar[3] -= lambda[3] / p[6]
        pBar[6] += lambda[3] * y[3] / (p[6] * p[6])
        yBar[7] += lambda[8] - lambda[7] / Self.rateFilterTimeConstant
        let x = traceIndex, w = weightIndex, z = weightIntegralIndex
        var tauPreBar = 0.0
        for g in 0..<groups {
            yBar[x + g] -= lambda[x + g] / p[5]
            tauPreBar += lambda[x + g] * y[x + g]
            yBar[w + g] += lambda[z + g]
        }
        pBar[5] += tauPreBar / (p[5] * p[5])
    }

    // MARK: Events

    public var eventCount: Int { 4 }

    public func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        values[0] = y[0] - Self.threshold
        values[1] = y[4] > 0.5 ? t - y[5] : -1
        let next = Int(y[6])
        values[2] = next < inputTimes.count ? t - inputTimes[next] : -1
        values[3] = t - windowStart
    }

    /// w + change, clipped at 0.
    @inline(__always)
    private static func clipped(_ w: Double, _ change: Double) -> Double { max(0, w + change) }

    public func applyEvent(_ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>) {
        let eta = p[4]
        switch index {
        case 0:
            y[0] = Self.rest
            y[4] = 1
            y[5] = t + Self.refractoryPeriod
            y[3] += 1
            y[7] += 1 / Self.rateFilterTimeConstant
            let x = traceIndex, w = weightIndex
            for g in 0..<groups { y[w + g] = Self.clipped(y[w + g], eta * (p[1] + p[3] * y[x + g])) }
        case 1:
            y[4] = 0
        case 2:
            let next = Int(y[6])
            guard next < inputTimes.count else { return }
            let channel = Int(inputChannels[next])
            if channel < groups {
                y[1] += excitatoryWeights[channel]
            } else {
                let g = channel - groups
                y[2] += y[weightIndex + g]
                y[traceIndex + g] += 1
                y[weightIndex + g] = Self.clipped(y[weightIndex + g], eta * (p[0] + p[2] * y[3]))
            }
            y[6] = Double(next + 1)
        default:
            y[8] = 0
            for g in 0..<groups { y[weightIntegralIndex + g] = 0 }
        }
    }

    /// The resets' pullbacks. Overwritten entries (V, the refractory flag and release time at a
    /// spike, the accumulators at the window's start) pass nothing back; the release time t + t_ref
    /// is the one entry that depends on the event time. A weight clipped to 0 passes nothing back
    /// through its update (its derivative is 0 there).
    public func accumulateResetPullback(
        _ index: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent yBar: UnsafeMutableBufferPointer<Double>, parameterCotangent pBar: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        let eta = p[4], x = traceIndex, w = weightIndex
        switch index {
        case 0:
            for k in 1...3 { yBar[k] += lambda[k] }
            for k in 6...8 { yBar[k] += lambda[k] }
            for g in 0..<groups {
                yBar[x + g] += lambda[x + g]
                yBar[weightIntegralIndex + g] += lambda[weightIntegralIndex + g]
                let rate = p[1] + p[3] * y[x + g]
                guard y[w + g] + eta * rate > 0 else { continue }
                let l = lambda[w + g]
                yBar[w + g] += l
                yBar[x + g] += l * eta * p[3]
                pBar[1] += l * eta
                pBar[3] += l * eta * y[x + g]
                pBar[4] += l * rate
            }
            return lambda[5]
        case 1:
            for k in 0..<dimension where k != 4 { yBar[k] += lambda[k] }
            return 0
        case 2:
            for k in 0..<dimension { yBar[k] += lambda[k] }
            let next = Int(y[6])
            guard next < inputTimes.count else { return 0 }
            let channel = Int(inputChannels[next])
            guard channel >= groups else { return 0 }
            let g = channel - groups
            // g_I⁺ = g_I + w_g, w_g⁺ = max(0, w_g + η(α + κy)): w_g's own pass-through is already in.
            yBar[w + g] += lambda[2]
            let rate = p[0] + p[2] * y[3]
            let l = lambda[w + g]
            if y[w + g] + eta * rate > 0 {
                yBar[3] += l * eta * p[2]
                pBar[0] += l * eta
                pBar[2] += l * eta * y[3]
                pBar[4] += l * rate
            } else {
                yBar[w + g] -= l
            }
            return 0
        default:
            for k in 0..<weightIntegralIndex where k != Self.rateIntegralIndex { yBar[k] += lambda[k] }
            return 0
        }
    }

    public func eventFunctionGradient(
        _ index: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        stateGradient: UnsafeMutableBufferPointer<Double>, parameterGradient: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        stateGradient.initialize(repeating: 0)
        parameterGradient.initialize(repeating: 0)
        switch index {
        case 0:
            stateGradient[0] = 1
            return 0
        case 1:
            stateGradient[5] = -1
            return 1
        default:
            return 1
        }
    }
}
