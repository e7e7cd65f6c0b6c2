/// The derivatives BPTT needs to differentiate the leapfrog scheme exactly: pullbacks of the
/// gate kinetics (x∞, τ), of the membrane coefficients (G, E) and of the capacitance.
///
/// All three **add** into their output cotangents, like
/// ``VectorJacobianProviding/accumulatePullback(at:state:parameters:cotangent:stateCotangent:parameterCotangent:)``.
/// A system whose pullback needs working memory (a network's Wᵀλ product, say) states how much in
/// ``pullbackScratchCount``; the caller allocates it once per reverse sweep and passes it in, so
/// the pullbacks allocate nothing.
public protocol ConductanceBasedPullbacks: ConductanceBasedSystem {
    /// Doubles of scratch ``accumulateMembraneCoefficientsPullback(at:voltages:gates:parameters:conductanceCotangent:driveCotangent:voltageCotangent:gateCotangent:parameterCotangent:scratch:)`` needs.
    var pullbackScratchCount: Int { get }

    /// Adds x̄∞ᵀ∂x∞/∂V + τ̄ᵀ∂τ/∂V to `voltageCotangent` and the same in θ to `parameterCotangent`.
    func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>)

    /// Adds Ḡᵀ∂G/∂· + Ēᵀ∂E/∂· with respect to the voltages, the gates and θ.
    func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>)

    /// Adds C̄·∂C/∂θ to `parameterCotangent`.
    func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>)
}

extension ConductanceBasedPullbacks {
    /// Default: no scratch.
    public var pullbackScratchCount: Int { 0 }
}
