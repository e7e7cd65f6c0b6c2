/// The Izhikevich neuron (README "Models"): a membrane potential v (mV) and a recovery variable u.
///
///     v' = 0.04v² + 5v + 140 − u + I,   u' = a(bv − u)        (t in ms)
///
/// and when v reaches ``peak`` (30 mV) the event v ← c, u ← u + d fires. Parameters are
/// `[a, b, c, d, I]`; the presets choose (a, b, c, d) from Izhikevich (2003), with I = 10.
///
/// **Events.** The reset is event 0 (``EventSystem``), g = v − 30, so spike times are its event
/// times and every integrator with events (leapfrog, dopri5, CVODE) simulates the model.
///
/// **Conductance form** (for the leapfrog): C = 1, G = −(0.04v + 5) and E = 140 − u + I, so that
/// E − G·v is the right-hand side of v; u is a gate with u∞ = b·v and time constant 1/a. G depends
/// on v instantaneously, like Morris–Lecar's calcium term, so the leapfrog's default extrapolated
/// midpoint is the variant to use. G is negative (the upstroke is self-exciting): the voltage half
/// step stays well defined while Δt < 2/(0.04·30 + 5) ≈ 0.32 ms below the peak.
public struct Izhikevich: ConductanceBasedSystem, EventSystem, JacobianProviding, VectorJacobianProviding {
    /// Izhikevich's (2003) firing patterns, as (a, b, c, d).
    public enum Preset: String, CaseIterable, Sendable {
        /// (0.02, 0.2, −65, 8): tonic spiking with adaptation.
        case regularSpiking = "regular-spiking"
        /// (0.1, 0.2, −65, 2): fast recovery, high-frequency tonic spiking.
        case fastSpiking = "fast-spiking"
        /// (0.02, 0.2, −50, 2): high reset, repeated bursts.
        case chattering
        /// (0.02, 0.2, −55, 4): an initial burst, then single spikes.
        case intrinsicallyBursting = "intrinsically-bursting"

        /// (a, b, c, d) of the preset (1/ms, dimensionless, mV, mV/ms·ms).
        public var constants: [Double] {
            switch self {
            case .regularSpiking: [0.02, 0.2, -65, 8]
            case .fastSpiking: [0.1, 0.2, -65, 2]
            case .chattering: [0.02, 0.2, -50, 2]
            case .intrinsicallyBursting: [0.02, 0.2, -55, 4]
            }
        }
    }

    /// The parameter names in vector order: a (1/ms), b, c (mV), d, I.
    public static let parameterNames = ["a", "b", "c", "d", "I"]
    /// The spike peak (mV) at which the reset fires.
    public static let peak = 30.0

    /// The preset that produced ``defaultParameters``.
    public let preset: Preset
    public let defaultParameters: [Double]

    /// A neuron with the constants of `preset` and the injected current `current` (default 10).
    public init(preset: Preset = .regularSpiking, current: Double = 10) {
        self.preset = preset
        defaultParameters = preset.constants + [current]
    }

    public var name: String { "izhikevich" }
    public var dimension: Int { 2 }
    public var parameterNames: [String] { Self.parameterNames }
    public var stateNames: [String] { ["v", "u"] }
    public var voltageIndices: [Int] { [0] }
    public var voltageCount: Int { 1 }
    /// v = −65 mV, u = b·v (Izhikevich's own initialisation).
    public var defaultInitialState: [Double] { [-65, defaultParameters[1] * -65] }

    /// Requires a > 0 (u relaxes with time constant 1/a) and c < 30 (the reset lies below the peak);
    /// throws ``ODEError/invalidParameter(name:value:reason:)`` naming the first bad one.
    public func validate(parameters p: [Double]) throws(ODEError) {
        if !(p[0] > 0) { throw .invalidParameter(name: "a", value: p[0], reason: "the recovery rate must be positive") }
        if !(p[2] < Self.peak) {
            throw .invalidParameter(name: "c", value: p[2], reason: "the reset must lie below the peak \(Self.peak) mV")
        }
    }

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        let v = y[0], u = y[1]
        dydt[0] = 0.04 * v * v + 5 * v + 140 - u + p[4]
        dydt[1] = p[0] * (p[1] * v - u)
    }

    // MARK: Conductance-based structure (leapfrog)

    public func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { 1 }

    public func evaluateGateKinetics(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
    ) {
        steadyState[0] = p[1] * voltages[0]
        timeConstant[0] = 1 / p[0]
    }

    public func evaluateMembraneCoefficients(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
    ) {
        conductance[0] = -(0.04 * voltages[0] + 5)
        drive[0] = 140 - gates[0] + p[4]
    }

    // MARK: Events

    public var eventCount: Int { 1 }

    public func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        values[0] = y[0] - Self.peak
    }

    public func applyEvent(
        _ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>
    ) {
        y[0] = p[2]
        y[1] += p[3]
    }

    // MARK: Derivatives

    /// ∂f/∂y, column-major: [[0.08v + 5, −1], [ab, −a]].
    public func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        jacobian[0] = 0.08 * y[0] + 5
        jacobian[1] = p[0] * p[1]
        jacobian[2] = -1
        jacobian[3] = -p[0]
    }

    /// The pullback of the flow between events; c and d act only through the reset, so their
    /// entries get nothing here (the reset's own derivative is the gradient method's business).
    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        let v = y[0], u = y[1], l0 = lambda[0], l1 = lambda[1]
        stateCotangent[0] += l0 * (0.08 * v + 5) + l1 * p[0] * p[1]
        stateCotangent[1] += -l0 - l1 * p[0]
        g[0] += l1 * (p[1] * v - u)
        g[1] += l1 * p[0] * v
        g[4] += l0
    }
}

/// The derivatives of the reset v⁺ = c, u⁺ = u + d at g = v − 30.
extension Izhikevich: DifferentiableEventSystem {
    public func accumulateResetPullback(
        _ index: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        stateCotangent[1] += lambda[1]
        parameterCotangent[2] += lambda[0]
        parameterCotangent[3] += lambda[1]
        return 0
    }

    public func eventFunctionGradient(
        _ index: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        stateGradient: UnsafeMutableBufferPointer<Double>, parameterGradient: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        stateGradient[0] = 1
        stateGradient[1] = 0
        parameterGradient.initialize(repeating: 0)
        return 0
    }
}

/// The leapfrog's pullbacks (for BPTT) of u∞ = b·v, τ = 1/a, G = −(0.04v + 5), E = 140 − u + I, C = 1.
extension Izhikevich: ConductanceBasedPullbacks {
    public func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        let steadyBar = steadyStateCotangent[0]
        voltageCotangent[0] += steadyBar * p[1]
        g[1] += steadyBar * voltages[0]
        g[0] -= timeConstantCotangent[0] / (p[0] * p[0])
    }

    public func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent g: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        voltageCotangent[0] -= 0.04 * conductanceCotangent[0]
        gateCotangent[0] -= driveCotangent[0]
        g[4] += driveCotangent[0]
    }

    public func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {}
}
