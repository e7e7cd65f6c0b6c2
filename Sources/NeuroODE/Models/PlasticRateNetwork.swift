/// A linear rate neuron y = w·x whose N input weights learn by a plasticity rule from the
/// polynomial family (README "Plastic networks"):
///
///     dwᵢ/dt = η Σ_{a,b,c ∈ {0,1,2}} A_abc xᵢ^a y^b wᵢ^c,
///
/// The weights are the state and the rule's 27 coefficients A_abc (and η) are parameters, so the
/// learning process itself is an ODE: every integrator and gradient method applies unchanged —
/// BPTT through the learning process, the adjoints, finite differences, ES, CMA-ES. Oja's rule,
/// dw/dt = η(y x − y² w), is A_110 = 1, A_021 = −1, every other coefficient 0.
///
/// **Inputs.** x(t) linearly interpolates samples x₀, x₁, …, x_{K−1} taken every Δt
/// (`sampleInterval`) from t = 0, held at x_{K−1} after (K − 1)Δt. Piecewise *linear*, not
/// piecewise constant, on purpose: a step input puts a jump on every sample time, where an
/// explicit Runge–Kutta step would evaluate stages on both sides of it (dopri5's c = 1 stages and
/// its FSAL stage), while a continuous input is exact for every integrator, adaptive or fixed-step,
/// forward or backward (the adjoints). The Oja benchmark draws xₖ ~ N(0, (3/2)Σ) independently
/// and integrates with dopri5 at fixed h = Δt, so each step sees one linear segment; the
/// time-averaged second moment of the interpolant is then ((1−s)² + s² averaged over s = 2/3) ×
/// (3/2)Σ = Σ, whose unit first principal component is Oja's fixed point.
///
/// Parameters: `A_000`, `A_001`, …, `A_222` (index 9a + 3b + c), then `eta` (1/time). State:
/// `w0`, …, `w{N−1}`. The right-hand side and its pullback allocate nothing.
public struct PlasticRateNetwork: VectorJacobianProviding {
    /// N, the number of inputs (and weights).
    public let inputs: Int
    /// The samples xₖ, K × N row-major.
    public let samples: [Double]
    /// Δt between samples, in the model's time unit.
    public let sampleInterval: Double
    /// The rule's coefficients A (27, index 9a + 3b + c) and η the system was built with.
    public let defaultParameters: [Double]

    /// The coefficient vector of Oja's rule (A_110 = 1, A_021 = −1).
    public static let ojaRule: [Double] = (0..<27).map { $0 == 12 ? 1 : $0 == 7 ? -1 : 0 }

    /// A network of `inputs` weights driven by `samples` (K × N row-major, K ≥ 2) every
    /// `sampleInterval`, learning by `rule` (27 coefficients) at rate `eta`. Throws ``ODEError``
    /// naming the first bad value.
    public init(inputs: Int, samples: [Double], sampleInterval: Double, rule: [Double] = ojaRule, eta: Double = 1) throws(ODEError) {
        guard inputs >= 1 else { throw .dimensionMismatch(what: "inputs of a plastic rate network", expected: 1, actual: inputs) }
        guard samples.count >= 2 * inputs, samples.count % inputs == 0 else {
            throw .dimensionMismatch(
                what: "input samples (K × \(inputs), K ≥ 2)", expected: max(2, samples.count / inputs) * inputs, actual: samples.count)
        }
        guard sampleInterval.isFinite, sampleInterval > 0 else {
            throw .invalidParameter(name: "sampleInterval", value: sampleInterval, reason: "must be finite and positive")
        }
        guard rule.count == 27 else { throw .dimensionMismatch(what: "plasticity rule coefficients", expected: 27, actual: rule.count) }
        if let bad = samples.first(where: { !$0.isFinite }) {
            throw .invalidParameter(name: "input sample", value: bad, reason: "must be finite")
        }
        self.inputs = inputs
        self.samples = samples
        self.sampleInterval = sampleInterval
        defaultParameters = rule + [eta]
    }

    public var name: String { "plastic-rate" }
    public var dimension: Int { inputs }
    /// K, the number of samples.
    public var sampleCount: Int { samples.count / inputs }
    /// (K − 1)Δt, the last sample's time.
    public var duration: Double { Double(sampleCount - 1) * sampleInterval }
    public var parameterNames: [String] { Self.parameterNamesOfRule + ["eta"] }
    /// `A_abc` for index 9a + 3b + c.
    public static let parameterNamesOfRule: [String] = (0..<27).map { "A_\($0 / 9)\($0 / 3 % 3)\($0 % 3)" }
    public var stateNames: [String] { (0..<inputs).map { "w\($0)" } }
    /// Small equal weights 1/√N·0.5: away from w = 0, where y = 0 and many rules stall.
    public var defaultInitialState: [Double] {
        [Double](repeating: 0.5 / Double(inputs).squareRoot(), count: inputs)
    }

    /// The segment k and fraction s with x(t) = (1 − s)xₖ + s·xₖ₊₁.
    @inline(__always)
    func segment(at t: Double) -> (index: Int, fraction: Double) {
        let position = t / sampleInterval
        let last = sampleCount - 2
        guard position > 0 else { return (0, 0) }  // also NaN
        if position >= Double(last + 1) { return (last, 1) }
        let k = Int(position.rounded(.down))
        return (k, position - Double(k))
    }

    @inline(__always)
    func input(_ i: Int, _ segment: (index: Int, fraction: Double)) -> Double {
        let row = segment.index * inputs
        return (1 - segment.fraction) * samples[row + i] + segment.fraction * samples[row + inputs + i]
    }

    public func evaluateRightHandSide(
        at t: Double, state w: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dw: UnsafeMutableBufferPointer<Double>
    ) {
        let s = segment(at: t)
        var y = 0.0
        for i in 0..<inputs { y += w[i] * input(i, s) }
        let eta = p[27]
        for i in 0..<inputs {
            let x = input(i, s), wi = w[i]
            var total = 0.0
            var xa = 1.0
            for a in 0..<3 {
                var yb = 1.0
                for b in 0..<3 {
                    let base = 9 * a + 3 * b
                    total += xa * yb * (p[base] + wi * (p[base + 1] + wi * p[base + 2]))
                    yb *= y
                }
                xa *= x
            }
            dw[i] = eta * total
        }
    }

    /// λᵀ∂f/∂w and λᵀ∂f/∂(A, η). With gᵢ = Σ A_abc xᵢ^a y^b wᵢ^c and y = w·x:
    /// ∂fᵢ/∂w_j = η(∂gᵢ/∂y · x_j + δᵢⱼ ∂gᵢ/∂wᵢ), ∂fᵢ/∂A_abc = η xᵢ^a y^b wᵢ^c, ∂fᵢ/∂η = gᵢ.
    public func accumulatePullback(
        at t: Double, state w: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent wBar: UnsafeMutableBufferPointer<Double>, parameterCotangent pBar: UnsafeMutableBufferPointer<Double>
    ) {
        let s = segment(at: t)
        var y = 0.0
        for i in 0..<inputs { y += w[i] * input(i, s) }
        let eta = p[27]
        var yBar = 0.0
        for i in 0..<inputs {
            let x = input(i, s), wi = w[i], li = lambda[i]
            var g = 0.0, dgdy = 0.0, dgdw = 0.0
            var xa = 1.0
            for a in 0..<3 {
                var yb = 1.0, ybPrime = 0.0  // y^b and b·y^(b−1)
                for b in 0..<3 {
                    let base = 9 * a + 3 * b
                    let polynomial = p[base] + wi * (p[base + 1] + wi * p[base + 2])
                    let slope = p[base + 1] + 2 * wi * p[base + 2]
                    g += xa * yb * polynomial
                    dgdy += xa * ybPrime * polynomial
                    dgdw += xa * yb * slope
                    let weight = eta * li * xa * yb
                    pBar[base] += weight
                    pBar[base + 1] += weight * wi
                    pBar[base + 2] += weight * wi * wi
                    ybPrime = Double(b + 1) * yb
                    yb *= y
                }
                xa *= x
            }
            pBar[27] += li * g
            wBar[i] += eta * li * dgdw
            yBar += eta * li * dgdy
        }
        for j in 0..<inputs { wBar[j] += yBar * input(j, s) }
    }
}
