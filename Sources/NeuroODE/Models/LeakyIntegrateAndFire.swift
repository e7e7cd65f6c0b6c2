/// The leaky integrate-and-fire neuron (SCIENCE.md "Models"): τ dV/dt = EL − V + R·I, and when V reaches
/// the threshold Vth it is reset to Vreset, optionally held there for a refractory period.
///
/// Parameters are `[tau, EL, R, I, Vth, Vreset]` (ms, mV, MΩ·cm², µA/cm², mV, mV); the defaults
/// τ = 10, EL = −65, R = 10, I = 2, Vth = −50, Vreset = −65 give R·I = 20 mV > Vth − EL = 15 mV,
/// so the neuron fires tonically with interspike interval τ·ln(RI/(RI − (Vth − Vreset))) = τ ln 4.
///
/// **Events.** The reset is an event (``EventSystem``), so every integrator treats it the same way:
/// each locates it inside its step (CVODE with its root finder, dopri5 on its dense output, the
/// leapfrog on its step's interpolant) and restarts there, so a spike time carries the integrator's
/// own error (O(Δt²) for the leapfrog). Spike times are the times of event 0.
///
/// **Refractory period.** With `refractoryPeriod` t_ref > 0 the state gains a second entry r, the
/// refractory time left, or the marker r = −1 ms outside the period. While refractory (r > −½),
/// dV/dt = 0 and dr/dt = −1; otherwise dr/dt = 0. Two events: (0) V − Vth crosses 0 upward:
/// V = Vreset and r = t_ref; (1) −r crosses 0 upward, i.e. r runs out: r = −1, which also removes
/// the rounding left in r where the crossing was located. The marker keeps the two modes apart at
/// the event itself: a root finder
/// stops with r a rounding error either side of 0, still inside the period (r > −½), so f there is
/// the left limit that an event's saltation matrix needs. Keeping r in the state (rather
/// than a "last spike time" inside the model) keeps the right-hand side a pure function of (t, y),
/// which every integrator, checkpoint and adjoint relies on. The period is a structural choice
/// (it sets the dimension), so it is a stored property, not an entry of the parameter vector.
///
/// **Conductance form** (for the leapfrog): C = τ and, outside the refractory period, G = 1,
/// E = EL + R·I. While refractory both are set to 0, which holds V exactly. The clock r is integrated
/// as a second linear "compartment" with G = 0 and E = −τ (so dr/dt = −1) while refractory, E = 0
/// otherwise: the trapezoid step is then exact for r as well. That is why ``voltageCount`` counts
/// r; ``voltageIndices`` lists only V, the one membrane potential. LIF has no instantaneous terms,
/// so both leapfrog variants take the same steps outside the period; inside it the midpoint
/// variant judges the refractory switch on an extrapolated clock, r − Δt/2 ≥ −½ while r ≥ 0, so
/// for Δt < 1 ms it never frees V before the located end of the period either.
public struct LeakyIntegrateAndFire: ConductanceBasedSystem, EventSystem, JacobianProviding, VectorJacobianProviding {
    /// The parameter names in vector order: `[tau, EL, R, I, Vth, Vreset]`
    /// (ms, mV, MΩ·cm², µA/cm², mV, mV).
    public static let parameterNames = ["tau", "EL", "R", "I", "Vth", "Vreset"]

    /// Refractory period t_ref (ms); 0 means none, and then the state is V alone.
    public let refractoryPeriod: Double
    public let defaultParameters: [Double]

    /// A LIF neuron with the given default parameters (units as listed in the type overview)
    /// and refractory period (ms; 0 for none, which makes the state V alone).
    public init(
        timeConstant: Double = 10, restingPotential: Double = -65, resistance: Double = 10,
        current: Double = 2, threshold: Double = -50, resetPotential: Double = -65,
        refractoryPeriod: Double = 0
    ) {
        self.refractoryPeriod = refractoryPeriod
        defaultParameters = [timeConstant, restingPotential, resistance, current, threshold, resetPotential]
    }

    public var name: String { "lif" }
    /// Whether `refractoryPeriod` > 0, which adds the refractory clock r to the state.
    public var hasRefractoryPeriod: Bool { refractoryPeriod > 0 }
    public var dimension: Int { hasRefractoryPeriod ? 2 : 1 }
    public var parameterNames: [String] { Self.parameterNames }
    public var stateNames: [String] { hasRefractoryPeriod ? ["V", "r"] : ["V"] }
    public var voltageIndices: [Int] { [0] }
    public var voltageCount: Int { dimension }
    /// At rest (V = EL), not refractory (r = −1, the marker).
    public var defaultInitialState: [Double] { hasRefractoryPeriod ? [defaultParameters[1], -1] : [defaultParameters[1]] }

    /// Requires a finite, non-negative refractory period, τ > 0 and Vreset < Vth; throws
    /// ``ODEError/invalidParameter(name:value:reason:)`` naming the first bad one.
    public func validate(parameters p: [Double]) throws(ODEError) {
        guard refractoryPeriod.isFinite, refractoryPeriod >= 0 else {
            throw .invalidParameter(name: "refractoryPeriod", value: refractoryPeriod, reason: "must be finite and non-negative")
        }
        if !(p[0] > 0) { throw .invalidParameter(name: "tau", value: p[0], reason: "the time constant must be positive") }
        if !(p[5] < p[4]) {
            throw .invalidParameter(name: "Vreset", value: p[5], reason: "the reset must lie below the threshold Vth = \(p[4])")
        }
    }

    /// Whether the state is inside the refractory period: r > −½, between t_ref and the marker −1
    /// (see the type overview).
    @inline(__always)
    fileprivate func isRefractory(_ y: UnsafeBufferPointer<Double>) -> Bool {
        hasRefractoryPeriod && y[1] > -0.5
    }

    // MARK: Right-hand side

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        if isRefractory(y) {
            dydt[0] = 0
            dydt[1] = -1
        } else {
            dydt[0] = (p[1] - y[0] + p[2] * p[3]) / p[0]
            if hasRefractoryPeriod { dydt[1] = 0 }
        }
    }

    // MARK: Conductance-based structure (leapfrog)

    public func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { p[0] }

    /// No gates.
    public func evaluateGateKinetics(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
    ) {}

    public func evaluateMembraneCoefficients(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
    ) {
        if isRefractory(voltages) {
            conductance[0] = 0
            drive[0] = 0
            conductance[1] = 0
            drive[1] = -p[0]
        } else {
            conductance[0] = 1
            drive[0] = p[1] + p[2] * p[3]
            if hasRefractoryPeriod {
                conductance[1] = 0
                drive[1] = 0
            }
        }
    }

    // MARK: Events

    public var eventCount: Int { dimension }

    public func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        values[0] = y[0] - p[4]
        if hasRefractoryPeriod { values[1] = -y[1] }
    }

    public func applyEvent(
        _ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>
    ) {
        switch index {
        case 0:
            y[0] = p[5]
            if hasRefractoryPeriod { y[1] = refractoryPeriod }
        default:
            y[1] = -1
        }
    }

    // MARK: Derivatives

    /// The Jacobian of the flow between events (piecewise constant: the switch at r = −½ is an
    /// event, not part of f).
    public func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        for k in 0..<(dimension * dimension) { jacobian[k] = 0 }
        if !isRefractory(y) { jacobian[0] = -1 / p[0] }
    }

    /// The pullback of the flow between events. Vth, Vreset and t_ref act only through the events,
    /// so their entries get nothing here; sensitivities through a reset need the event's own
    /// jump condition, which is the gradient method's business.
    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        guard !isRefractory(y) else { return }
        let tau = p[0], lvt = lambda[0] / tau
        let vDot = (p[1] - y[0] + p[2] * p[3]) / tau
        stateCotangent[0] -= lvt
        g[0] -= lvt * vDot
        g[1] += lvt
        g[2] += lvt * p[3]
        g[3] += lvt * p[2]
    }
}

/// The derivatives of the two events. Event 0 (g = V − Vth) overwrites the state with
/// (Vreset, t_ref): ∂h/∂y = 0 and ∂V⁺/∂Vreset = 1 (t_ref is structural, not a parameter). Event 1
/// (g = −r) sets r to the marker −1 and keeps V.
extension LeakyIntegrateAndFire: DifferentiableEventSystem {
    public func accumulateResetPullback(
        _ index: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        if index == 0 {
            parameterCotangent[5] += lambda[0]
        } else {
            stateCotangent[0] += lambda[0]
        }
        return 0
    }

    public func eventFunctionGradient(
        _ index: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        stateGradient: UnsafeMutableBufferPointer<Double>, parameterGradient: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        stateGradient.initialize(repeating: 0)
        parameterGradient.initialize(repeating: 0)
        if index == 0 {
            stateGradient[0] = 1
            parameterGradient[4] = -1
        } else {
            stateGradient[1] = -1
        }
        return 0
    }
}

/// The leapfrog's pullbacks (for BPTT): no gates; G and E are constant in V and switch at the
/// refractory marker, an event boundary, so only θ gets cotangents: Ē·∂(EL + R·I)/∂θ outside the
/// period, Ē_r·∂(−τ)/∂τ inside it, and C̄ = τ̄ from C = τ.
extension LeakyIntegrateAndFire: ConductanceBasedPullbacks {
    public func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {}

    public func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent g: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        if isRefractory(voltages) {
            g[0] -= driveCotangent[1]
        } else {
            let eBar = driveCotangent[0]
            g[1] += eBar
            g[2] += eBar * p[3]
            g[3] += eBar * p[2]
        }
    }

    public func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        parameterCotangent[0] += cotangent
    }
}
