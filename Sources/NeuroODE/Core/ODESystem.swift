/// A system of ordinary differential equations dy/dt = f(t, y, θ) with a flat, named parameter vector θ.
///
/// A conforming type describes the *equations* only: integrators own the state storage and call
/// ``evaluateRightHandSide(at:state:parameters:into:)`` with buffers they allocated once, so the
/// right-hand side must write into `derivative` and allocate nothing.
///
/// Optional capabilities are separate protocols (``JacobianProviding``, ``VectorJacobianProviding``,
/// ``ConductanceBasedSystem``, ``EventSystem``); integrators and gradient methods detect them once,
/// when a solve is set up, never per step.
public protocol ODESystem: Sendable {
    /// A short name used in error messages and output files, e.g. `"morris-lecar"`.
    var name: String { get }
    /// Number of state variables.
    var dimension: Int { get }
    /// One name per parameter, in the order of the parameter vector.
    var parameterNames: [String] { get }
    /// The parameter values the system was built with (a preset, for the neuron models).
    var defaultParameters: [Double] { get }
    /// A sensible initial state (rest or a documented operating point).
    var defaultInitialState: [Double] { get }
    /// One name per state variable, used for CSV headers. Defaults to `y0, y1, ...`.
    var stateNames: [String] { get }
    /// Indices of membrane potentials, where spike detection looks. Defaults to none.
    var voltageIndices: [Int] { get }

    /// Checks parameter values that the equations cannot accept (a non-positive capacitance, say).
    /// Finiteness and the count are checked by ``ODEProblem``; this checks the model's own domain.
    func validate(parameters: [Double]) throws(ODEError)

    /// Writes f(t, y, θ) into `derivative`. Must not allocate; may throw to report a failure, which
    /// integrators turn into ``ODEError/rightHandSideFailed(model:time:reason:)``.
    func evaluateRightHandSide(
        at t: Double,
        state: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws
}

extension ODESystem {
    /// Default: `y0`, `y1`, … in state order.
    public var stateNames: [String] { (0..<dimension).map { "y\($0)" } }
    /// Default: none (the system has no membrane potentials).
    public var voltageIndices: [Int] { [] }
    /// Default: every finite parameter vector is accepted (lengths and finiteness are checked by
    /// ``ODEProblem`` itself).
    public func validate(parameters: [Double]) throws(ODEError) {}

    /// The index of a named parameter, or a typed error naming the unknown name.
    public func parameterIndex(named name: String) throws(ODEError) -> Int {
        guard let index = parameterNames.firstIndex(of: name) else {
            throw .unknownParameter(name: name, model: self.name)
        }
        return index
    }
}

/// A system that can write its dense Jacobian ∂f/∂y; CVODE uses it instead of difference quotients.
public protocol JacobianProviding: ODESystem {
    /// Writes ∂f/∂y in column-major order (entry (i, j) at `i + j * dimension`), SUNDIALS' layout.
    func evaluateJacobian(
        at t: Double,
        state: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) throws
}

/// A system that can pull a cotangent λ back through its right-hand side, the building block of
/// BPTT and the adjoint methods: λᵀ ∂f/∂y and λᵀ ∂f/∂θ without forming either Jacobian.
public protocol VectorJacobianProviding: ODESystem {
    /// **Adds** λᵀ ∂f/∂y to `stateCotangent` and λᵀ ∂f/∂θ to `parameterCotangent`.
    /// Accumulating (rather than overwriting) lets reverse sweeps sum over steps without scratch.
    func accumulatePullback(
        at t: Double,
        state: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws
}

/// A conductance-based system: every membrane potential obeys C dV/dt = E − G·V, with G and E
/// linear in gating variables x that relax as dx/dt = (x∞(V) − x) / τ(V).
///
/// This is the structure the leapfrog (staggered trapezoid) scheme exploits: with V frozen the gate
/// update is linear, and with the gates frozen the voltage update is linear, so each half of the
/// step is solved exactly by the trapezoid rule at explicit cost.
///
/// State layout: the first ``voltageCount`` entries are membrane potentials, the rest are gates.
public protocol ConductanceBasedSystem: ODESystem {
    /// How many membrane potentials lead the state vector.
    var voltageCount: Int { get }
    /// Membrane capacitance C (µF/cm²), the same for every compartment.
    func capacitance(parameters: UnsafeBufferPointer<Double>) -> Double
    /// Writes x∞ and τ (ms, already divided by any temperature factor φ) for every gate, with the
    /// voltages frozen at `voltages`. Both outputs have `dimension − voltageCount` entries.
    func evaluateGateKinetics(
        at t: Double,
        voltages: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>,
        timeConstant: UnsafeMutableBufferPointer<Double>
    ) throws
    /// Writes the total conductance G and the drive E (including injected and synaptic current)
    /// for every compartment, so that C dV/dt = E − G·V, with the gates frozen at `gates` and any
    /// instantaneous term or synaptic input evaluated at `voltages`.
    func evaluateMembraneCoefficients(
        at t: Double,
        voltages: UnsafeBufferPointer<Double>,
        gates: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>,
        drive: UnsafeMutableBufferPointer<Double>
    ) throws
    /// The band every membrane potential must stay in (mV), or nil for none.
    var plausibleVoltageRange: ClosedRange<Double>? { get }
    /// The range every gate must stay in (gates are probabilities: [0, 1]), or nil for none.
    var plausibleGateRange: ClosedRange<Double>? { get }
}

/// The ranges outside which a conductance-based model's states mean nothing (README "Leapfrog
/// stability limits"). Fixed-step integrators check them after every step: a step far beyond the
/// scheme's stability can leave the gates' [0, 1] or send voltages to hundreds of mV while every
/// number stays finite, and such a run must stop with
/// ``ODEError/implausibleState(model:state:value:range:time:step:stepSize:)`` rather than report
/// nonsense as a solution. `nil` (the default) checks nothing.
extension ConductanceBasedSystem {
    public var plausibleVoltageRange: ClosedRange<Double>? { nil }
    public var plausibleGateRange: ClosedRange<Double>? { nil }
}

/// A system with discrete events: event i fires when gᵢ(t, y) crosses zero from below, and then
/// ``applyEvent(_:at:state:parameters:)`` changes the state (a spike reset, say).
///
/// CVODE locates the crossing with its root finder; fixed-step integrators apply the event after
/// the step in which it happened and record its time by linear interpolation.
public protocol EventSystem: ODESystem {
    /// Number of event functions.
    var eventCount: Int { get }
    /// Writes gᵢ(t, y) for every event.
    func evaluateEventFunctions(
        at t: Double,
        state: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) throws
    /// Changes the state when event `index` fires at time `t`.
    func applyEvent(
        _ index: Int,
        at t: Double,
        state: UnsafeMutableBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>
    )
}
