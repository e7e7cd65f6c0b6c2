/// The loss of a training task, in the one form every gradient method can handle:
///
///     L = Φ(Q, Y, θ_L),   Q = ∫ r(t, y) dt over the horizon,   Y = (y(t₁), …, y(t_K))
///
/// r is a vector of running integrands, t_k are observation times and θ_L are the loss's own
/// parameters (a readout layer, say). A plain running cost ∫ℓ dt is r = ℓ with Φ = Q; costs at
/// observation times are Φ = Σ φ_k(y(t_k)); the evidence task's cross-entropy of a readout averaged
/// over a window is r = T(V)·𝟙(window), Φ = CE(W_out·Q/|window| + b).
///
/// BPTT and the adjoints need ∂Φ/∂Q, ∂Φ/∂Y, ∂Φ/∂θ_L and the pullback of r; the adjoint ODE is then
/// λ' = −(∂f/∂y)ᵀλ − (∂Φ/∂Q)ᵀ ∂r/∂y, with jumps λ += ∂Φ/∂y(t_k) at the observation times.
public protocol TaskLoss: Sendable {
    /// Number of running integrands r (0: none).
    var integrandCount: Int { get }
    /// The time before which every r is exactly zero (−∞: none), so forward passes may skip those steps.
    var integrandsActiveFrom: Double { get }
    /// Writes r(t, y); must not allocate (it runs every step).
    func evaluateIntegrands(at t: Double, state: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>)
    /// Adds r̄ᵀ ∂r/∂y to `stateCotangent`.
    func accumulateIntegrandPullback(
        at t: Double, state: UnsafeBufferPointer<Double>, cotangent: UnsafeBufferPointer<Double>,
        into stateCotangent: UnsafeMutableBufferPointer<Double>)

    /// Observation times, strictly increasing inside the horizon (empty: none).
    var observationTimes: [Double] { get }

    /// Names of the loss's own trainable parameters (empty: none).
    var parameterNames: [String] { get }

    /// Φ(Q, Y, θ_L). `observations` is row-major, one state per observation time.
    func value(integrals: [Double], observations: [Double], parameters: [Double]) -> Double

    /// Φ and its gradient with respect to Q, Y and θ_L.
    func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient
}

/// Φ and its partial derivatives, the seed of every reverse pass.
public struct LossGradient: Sendable {
    /// Φ.
    public var value: Double
    /// ∂Φ/∂Q, one entry per running integrand.
    public var integrals: [Double]
    /// ∂Φ/∂Y, row-major like the observations.
    public var observations: [Double]
    /// ∂Φ/∂θ_L, one entry per loss parameter.
    public var parameters: [Double]

    /// Bundles Φ and its partials.
    public init(value: Double, integrals: [Double], observations: [Double], parameters: [Double]) {
        self.value = value
        self.integrals = integrals
        self.observations = observations
        self.parameters = parameters
    }
}

extension TaskLoss {
    /// Default: no running integrands.
    public var integrandCount: Int { 0 }
    /// Default: the integrands may be non-zero anywhere.
    public var integrandsActiveFrom: Double { -.infinity }
    public func evaluateIntegrands(at t: Double, state: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {}
    public func accumulateIntegrandPullback(
        at t: Double, state: UnsafeBufferPointer<Double>, cotangent: UnsafeBufferPointer<Double>,
        into stateCotangent: UnsafeMutableBufferPointer<Double>) {}
    /// Default: no observations.
    public var observationTimes: [Double] { [] }
    /// Default: no trainable loss parameters.
    public var parameterNames: [String] { [] }

    /// Default: the value of ``valueAndGradient(integrals:observations:parameters:)``.
    public func value(integrals: [Double], observations: [Double], parameters: [Double]) -> Double {
        valueAndGradient(integrals: integrals, observations: observations, parameters: parameters).value
    }
}
