/// G = ∫ wᵀy dt over the horizon: for example ROBER's G = ∫ y₃ dt (SCIENCE.md task `rober-integral`,
/// SUNDIALS' cvsRoberts_ASAi_dns) with w = (0, 0, 1).
public struct StateIntegralLoss: TaskLoss {
    /// w, one weight per state component.
    public var weights: [Double]

    /// G = ∫ wᵀy dt with `weights` w, one per state component.
    public init(weights: [Double]) {
        self.weights = weights
    }

    public var integrandCount: Int { 1 }

    public func evaluateIntegrands(at t: Double, state: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        var sum = 0.0
        for i in weights.indices { sum += weights[i] * state[i] }
        values[0] = sum
    }

    public func accumulateIntegrandPullback(
        at t: Double, state: UnsafeBufferPointer<Double>, cotangent: UnsafeBufferPointer<Double>,
        into stateCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        for i in weights.indices { stateCotangent[i] += cotangent[0] * weights[i] }
    }

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        LossGradient(value: integrals[0], integrals: [1], observations: [], parameters: [])
    }
}
