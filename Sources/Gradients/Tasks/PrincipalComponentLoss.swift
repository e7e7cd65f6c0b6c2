/// The Oja benchmark's meta-loss on the final weights w = w(T) (README "Plastic networks"):
///
///     Φ(w) = 1 − (u·w)² / ‖w‖² + (‖w‖ − 1)²,
///
/// with u the unit first principal component of the input covariance. It is 0 exactly at w = ±u,
/// the fixed point of Oja's rule: the first term (1 − cos², the smooth form of 1 − |cos|) scores the
/// direction whatever the sign, the second the unit norm. A rule whose weights grow without bound
/// is penalised quadratically in ‖w‖; one whose inner run overflows fails its forward solve, which
/// ES and CMA-ES rank worst and the gradient methods' training loop skips. Near w = 0 the direction
/// is undefined: ‖w‖² is floored at 10⁻¹², so Φ stays finite (→ 2) there.
public struct PrincipalComponentLoss: TaskLoss {
    /// u, the unit first principal component.
    public let component: [Double]
    /// The single observation time T, the end of the inner learning run.
    public let observationTimes: [Double]

    /// The loss of w(`time`) against the unit vector `component`.
    public init(component: [Double], time: Double) {
        self.component = component
        observationTimes = [time]
    }

    public func valueAndGradient(integrals: [Double], observations w: [Double], parameters: [Double]) -> LossGradient {
        var projection = 0.0, squaredNorm = 0.0
        for i in w.indices {
            projection += component[i] * w[i]
            squaredNorm += w[i] * w[i]
        }
        let floored = max(squaredNorm, 1e-12)
        let norm = squaredNorm.squareRoot()
        let value = 1 - projection * projection / floored + (norm - 1) * (norm - 1)
        var gradient = [Double](repeating: 0, count: w.count)
        let radial = norm > 0 ? 2 * (norm - 1) / norm : 0
        let direction = squaredNorm > 1e-12 ? 2 * projection * projection / (floored * floored) : 0
        for i in w.indices {
            gradient[i] = -2 * projection * component[i] / floored + direction * w[i] + radial * w[i]
        }
        return LossGradient(value: value, integrals: [], observations: gradient, parameters: [])
    }
}
