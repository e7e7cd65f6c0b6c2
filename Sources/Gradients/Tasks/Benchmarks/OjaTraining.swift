import Foundation
import NeuroODE

/// Rediscovering Oja's rule (Confavreux et al. 2020; README "Plastic networks"): learn the 27
/// coefficients A of a ``PlasticRateNetwork``'s rule so that, after an inner learning run on
/// Gaussian inputs, the weights are the unit first principal component of the input covariance.
///
/// **Inner run** (one per iteration, drawn from (seed, iteration)): K input samples
/// xₖ ~ N(0, (3/2)Σ) every Δt, linearly interpolated (whose time-averaged second moment is Σ),
/// initial weights w₀ = 0.5·g/‖g‖ with g ~ N(0, I), dopri5 at fixed h = Δt over [0, (K − 1)Δt],
/// η fixed. **Meta-loss**: ``PrincipalComponentLoss`` on w(T). **Σ** = Q·diag(λ)·Qᵀ with Q a
/// seeded random rotation (fixed by `covarianceSeed`, so every iteration and method sees the same
/// Σ), λ₁ = 1 and λ₂ … λ_N evenly from 0.5 down to 0.1: a gap of 0.5, so Oja's rule aligns w
/// within η·0.5·T ≈ 10 time constants. **θ** = A (η is not trained: a positive factor on A trades
/// against it). **Start**: the origin A = 0, as in the paper (Confavreux et al. 2020, supplement:
/// the origin is a stable rule for every N, while a random rule often is not); the landscape's
/// random rule A₀ ~ N(0, `initialScale`²) per coefficient (their Fig. S1) is ``randomRule(seed:)``.
///
/// The held-out metric `oja_distance` is ``distanceToOja(_:)``, the distance of A to Oja's rule
/// up to the family's symmetries; the target is that distance below 0.3 (A within ~17° of Oja's
/// rule in the 27-dimensional coefficient space).
public struct OjaTraining: TrainingProblem {
    /// The run's settings; ``small`` and ``paper`` are the presets.
    public struct Configuration: Codable, Sendable, Equatable {
        /// N, the inputs of the plastic neuron.
        public var inputs: Int
        /// K, input samples per inner run.
        public var sampleCount: Int
        /// Δt between samples (and dopri5's step), in the model's time unit.
        public var sampleInterval: Double
        /// η, the rule's learning rate (1/time).
        public var eta: Double
        /// Seed of Σ's eigenbasis.
        public var covarianceSeed: UInt64
        /// Standard deviation of the coefficients of ``OjaTraining/randomRule(seed:)``.
        public var initialScale: Double
        /// Default number of outer iterations (CMA-ES generations).
        public var iterations: Int
        /// Adam's default learning rate for the gradient methods (FD, BPTT, ES).
        public var learningRate: Double
        /// Default ES samples per estimate.
        public var samples: Int
        /// Default ES σ and CMA-ES σ₀, in coefficient units.
        public var sigma: Double

        /// A configuration; ``OjaTraining/init(configuration:)`` validates it.
        public init(
            inputs: Int, sampleCount: Int, sampleInterval: Double, eta: Double, covarianceSeed: UInt64, initialScale: Double,
            iterations: Int, learningRate: Double, samples: Int, sigma: Double
        ) {
            self.inputs = inputs
            self.sampleCount = sampleCount
            self.sampleInterval = sampleInterval
            self.eta = eta
            self.covarianceSeed = covarianceSeed
            self.initialScale = initialScale
            self.iterations = iterations
            self.learningRate = learningRate
            self.samples = samples
            self.sigma = sigma
        }

        /// N = 5, K = 1000, η = 0.02, 150 iterations: every method in about a minute on two
        /// cores (release build).
        public static let small = Configuration(
            inputs: 5, sampleCount: 1000, sampleInterval: 1, eta: 0.02, covarianceSeed: 0, initialScale: 0.1,
            iterations: 150, learningRate: 0.05, samples: 20, sigma: 0.1)
        /// The paper's largest network, N = 39, with a longer, slower inner run (K = 2000,
        /// η = 0.01: less weight noise at the fixed point) and 400 iterations.
        public static let paper = Configuration(
            inputs: 39, sampleCount: 2000, sampleInterval: 1, eta: 0.01, covarianceSeed: 0, initialScale: 0.1,
            iterations: 400, learningRate: 0.05, samples: 40, sigma: 0.1)
    }

    public let configuration: Configuration
    /// u, the unit first principal component of Σ.
    public let principalComponent: [Double]
    /// L with L·Lᵀ = (3/2)Σ, row-major N × N: xₖ = L·ξₖ.
    private let inputFactor: [Double]

    /// Builds Σ; throws ``ODEError`` naming the first bad setting.
    public init(configuration: Configuration = .small) throws(ODEError) {
        guard configuration.inputs >= 2 else {
            throw .dimensionMismatch(what: "inputs of the Oja task (at least 2)", expected: 2, actual: configuration.inputs)
        }
        guard configuration.sampleCount >= 2 else {
            throw .dimensionMismatch(what: "input samples per inner run (at least 2)", expected: 2, actual: configuration.sampleCount)
        }
        for (name, value) in [("sampleInterval", configuration.sampleInterval), ("eta", configuration.eta), ("initialScale", configuration.initialScale)]
        where !(value.isFinite && value > 0) {
            throw .invalidParameter(name: name, value: value, reason: "must be finite and positive")
        }
        self.configuration = configuration
        let n = configuration.inputs
        let basis = Self.rotation(dimension: n, seed: configuration.covarianceSeed)
        let spectrum = Self.spectrum(dimension: n)
        principalComponent = (0..<n).map { basis[$0 * n] }
        // L = Q·diag(√(3λ/2)): column k of Q scaled.
        var factor = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for k in 0..<n { factor[i * n + k] = basis[i * n + k] * (1.5 * spectrum[k]).squareRoot() } }
        inputFactor = factor
    }

    /// λ₁ = 1, then N − 1 values evenly from 0.5 down to 0.1.
    public static func spectrum(dimension n: Int) -> [Double] {
        var values: [Double] = [1]
        for k in 0..<(n - 1) {
            let fraction: Double = n == 2 ? 0 : Double(k) / Double(n - 2)
            values.append(0.5 - 0.4 * fraction)
        }
        return values
    }

    /// A seeded random rotation Q (row-major, columns orthonormal): Gram–Schmidt of a Gaussian matrix.
    static func rotation(dimension n: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed, stream: 0x0_1A)
        var columns = (0..<n).map { _ in (0..<n).map { _ in generator.nextGaussian() } }
        for k in 0..<n {
            for j in 0..<k {
                let dot = zip(columns[k], columns[j]).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<n { columns[k][i] -= dot * columns[j][i] }
            }
            let norm = columns[k].reduce(0) { $0 + $1 * $1 }.squareRoot()
            columns[k] = columns[k].map { $0 / norm }
        }
        return (0..<(n * n)).map { columns[$0 % n][$0 / n] }
    }

    /// Σ = Q·diag(λ)·Qᵀ, row-major.
    public var covariance: [Double] {
        let n = configuration.inputs
        var sigma = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n {
                // (L Lᵀ)/(3/2) = Σ.
                var sum = 0.0
                for k in 0..<n { sum += inputFactor[i * n + k] * inputFactor[j * n + k] }
                sigma[i * n + j] = sum / 1.5
            }
        }
        return sigma
    }

    public var name: String { "oja" }
    /// A_000 … A_222.
    public var parameterNames: [String] { Array(PlasticRateNetwork.parameterNamesOfRule) }

    /// The origin, whatever the seed (the seed still varies the data and the methods' noise).
    public func initialParameters(seed: UInt64) -> [Double] { [Double](repeating: 0, count: 27) }

    /// A random rule A₀ ~ N(0, `initialScale`²) per coefficient, seeded: the start of the
    /// meta-loss landscape's line (the paper's Fig. S1).
    public func randomRule(seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed, stream: 0x1_417)
        return (0..<27).map { _ in configuration.initialScale * generator.nextGaussian() }
    }

    public func task(iteration: Int, seed: UInt64) throws -> TrainingTask<PlasticRateNetwork, DormandPrince, PrincipalComponentLoss> {
        let n = configuration.inputs, count = configuration.sampleCount
        var generator = SeededGenerator(seed: seed, stream: 0x0_1A_DA7A, UInt64(iteration))
        var samples = [Double](repeating: 0, count: count * n)
        var xi = [Double](repeating: 0, count: n)
        for k in 0..<count {
            for i in 0..<n { xi[i] = generator.nextGaussian() }
            for i in 0..<n {
                var sum = 0.0
                for j in 0..<n { sum += inputFactor[i * n + j] * xi[j] }
                samples[k * n + i] = sum
            }
        }
        let direction = (0..<n).map { _ in generator.nextGaussian() }
        let length = direction.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let network = try PlasticRateNetwork(
            inputs: n, samples: samples, sampleInterval: configuration.sampleInterval, rule: PlasticRateNetwork.ojaRule,
            eta: configuration.eta)
        return try TrainingTask(
            name: "oja", system: network, initialState: direction.map { 0.5 * $0 / length },
            timeSpan: (0, network.duration), integrator: DormandPrince.fixedStep(configuration.sampleInterval),
            loss: PrincipalComponentLoss(component: principalComponent, time: network.duration),
            trainingIndices: Array(0..<27))
    }

    public var testMetric: TestMetric? { TestMetric(name: "oja_distance", higherIsBetter: false) }
    public func evaluateTestMetric(at theta: [Double], seed: UInt64) -> Double { Self.distanceToOja(theta) }
    public var target: TrainingTarget { TrainingTarget(quantity: .testMetric, threshold: 0.3, higherIsBetter: false) }

    public var defaults: TrainingDefaults {
        TrainingDefaults(
            optimizer: .adam(Adam(learningRate: configuration.learningRate)), iterations: configuration.iterations,
            evaluationInterval: 1, samples: configuration.samples, sigma: configuration.sigma)
    }

    /// The distance of the rule `A` to Oja's up to the family's symmetries:
    /// min over g of min_{c > 0} ‖c·g(A) − A_Oja‖ / ‖A_Oja‖, which is √(1 − cos²) of the angle between
    /// g(A) and A_Oja when that cosine is positive and 1 otherwise. The symmetries: a positive factor
    /// (it trades against η and the horizon), and the sign flips x → −x (A_abc → (−1)^(a+b) A_abc;
    /// the inputs are symmetric in distribution) and w → −w (A_abc → (−1)^(1+b+c) A_abc, with −w₀,
    /// symmetric in distribution), which both fix Oja's rule. 0 is Oja's rule; 1 is orthogonal or
    /// opposite to it. Only the first 27 entries are read.
    public static func distanceToOja(_ rule: [Double]) -> Double {
        let oja = PlasticRateNetwork.ojaRule
        let ojaNorm = oja.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var best = 1.0
        var image = [Double](repeating: 0, count: 27)
        for flipX in [false, true] {
            for flipW in [false, true] {
                var dot = 0.0, norm = 0.0
                for index in 0..<27 {
                    let a = index / 9, b = index / 3 % 3, c = index % 3
                    var sign = 1.0
                    if flipX, (a + b) % 2 == 1 { sign = -sign }
                    if flipW, (1 + b + c) % 2 == 1 { sign = -sign }
                    image[index] = sign * rule[index]
                    dot += image[index] * oja[index]
                    norm += image[index] * image[index]
                }
                guard norm > 0, dot > 0 else { continue }
                // ‖A_Oja − c*·g(A)‖ with the best c* = (A_Oja·g(A))/‖g(A)‖², summed directly
                // (√(1 − cos²) loses half the digits near 0).
                let factor = dot / norm
                var residual = 0.0
                for index in 0..<27 {
                    let difference = oja[index] - factor * image[index]
                    residual += difference * difference
                }
                best = min(best, residual.squareRoot() / ojaNorm)
            }
        }
        return best
    }

    /// The meta-loss along the straight line A(α) = (1 − α)·A₀ + α·A_Oja (the paper's Fig. S1B),
    /// averaged over the inner runs of iterations 0 ..< `runs`; nil where any inner run failed
    /// (an unstable rule). α runs over `points` values evenly from `range.lowerBound` to
    /// `range.upperBound`.
    public func landscape(from start: [Double], range: ClosedRange<Double> = -0.5...1.5, points: Int = 41, runs: Int = 4, seed: UInt64
    ) throws -> [(alpha: Double, loss: Double?)] {
        let tasks = try (0..<max(1, runs)).map { try task(iteration: $0, seed: seed) }
        let oja = PlasticRateNetwork.ojaRule
        return (0..<max(2, points)).map { k in
            let alpha = range.lowerBound + (range.upperBound - range.lowerBound) * Double(k) / Double(max(2, points) - 1)
            let rule = (0..<27).map { (1 - alpha) * start[$0] + alpha * oja[$0] }
            var total = 0.0
            for task in tasks {
                guard let loss = try? task.loss(at: rule), loss.isFinite else { return (alpha, nil) }
                total += loss
            }
            return (alpha, total / Double(tasks.count))
        }
    }
}
