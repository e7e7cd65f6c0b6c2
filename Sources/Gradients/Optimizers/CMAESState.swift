import Foundation

/// CMA-ES's constants for n parameters (Hansen's tutorial, Table 1; README "CMA-ES").
public struct CMAESStrategy: Sendable, Codable, Equatable {
    /// λ, samples per generation (default 4 + ⌊3 ln n⌋).
    public var populationSize: Int
    /// μ = ⌊λ/2⌋, the samples that move the mean.
    public var parents: Int
    /// w_1 ≥ … ≥ w_μ > 0, Σ w = 1, w_i ∝ ln((λ + 1)/2) − ln i.
    public var weights: [Double]
    /// μ_eff = 1/Σ w_i².
    public var effectiveParents: Double
    /// c_σ and d_σ: the step-size path's learning rate and damping.
    public var cSigma: Double, dSigma: Double
    /// c_c: the covariance path's learning rate.
    public var cC: Double
    /// c_1 and c_μ: rank-one and rank-μ learning rates (× (n + 2)/3 when separable).
    public var c1: Double, cMu: Double
    /// E‖N(0, I)‖ ≈ √n (1 − 1/(4n) + 1/(21n²)).
    public var expectedNorm: Double
    /// Generations between eigendecompositions (full covariance): ⌈λ / (10 n (c_1 + c_μ))⌉.
    public var decompositionInterval: Int

    init(dimension n: Int, populationSize requested: Int?, separable: Bool) {
        let dimension = Double(n)
        let lambda = requested ?? 4 + Int((3 * log(dimension)).rounded(.down))
        let mu = lambda / 2
        let raw = (1...mu).map { log(Double(lambda + 1) / 2) - log(Double($0)) }
        let total = raw.reduce(0, +)
        let weights = raw.map { $0 / total }
        let mueff = 1 / weights.reduce(0) { $0 + $1 * $1 }
        self.populationSize = lambda
        parents = mu
        self.weights = weights
        effectiveParents = mueff
        cSigma = (mueff + 2) / (dimension + mueff + 5)
        dSigma = 1 + 2 * max(0, ((mueff - 1) / (dimension + 1)).squareRoot() - 1) + cSigma
        cC = (4 + mueff / dimension) / (dimension + 4 + 2 * mueff / dimension)
        var c1 = 2 / ((dimension + 1.3) * (dimension + 1.3) + mueff)
        var cMu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((dimension + 2) * (dimension + 2) + mueff))
        if separable {
            // Ros & Hansen (2008): a diagonal C has n, not n²/2, entries to learn.
            let factor = (dimension + 2) / 3
            c1 = min(1, c1 * factor)
            cMu = min(1 - c1, cMu * factor)
        }
        self.c1 = c1
        self.cMu = cMu
        expectedNorm = dimension.squareRoot() * (1 - 1 / (4 * dimension) + 1 / (21 * dimension * dimension))
        decompositionInterval = max(1, Int((Double(lambda) / (10 * dimension * (c1 + cMu))).rounded(.up)))
    }
}

/// Everything CMA-ES carries from one generation to the next; `Codable`, so the learned
/// covariance is saved with a result (and a run could be resumed from it).
public struct CMAESState: Sendable, Codable, Equatable {
    /// Full or separable covariance.
    public var covarianceModel: CMAES.Covariance
    /// The constants for this dimension.
    public var strategy: CMAESStrategy
    /// m, the distribution's mean: CMA-ES's current θ.
    public var mean: [Double]
    /// σ, the overall step size in θ's units.
    public var stepSize: Double
    /// C: n×n row-major (full) or its diagonal (separable). The sampling covariance is σ²C.
    public var covariance: [Double]
    /// p_c, the evolution path of the rank-one update.
    public var covariancePath: [Double]
    /// p_σ, the conjugate evolution path of the step size.
    public var sigmaPath: [Double]
    /// B, C's eigenvectors, column-major (full; empty when separable).
    public var basis: [Double]
    /// D, the square roots of C's eigenvalues (in B's column order; separable: √C_ii).
    public var scales: [Double]
    /// Generations completed.
    public var generation: Int
    /// Samples evaluated.
    public var evaluations: Int
    /// The generation at which B and D were last computed.
    public var decompositionGeneration: Int

    init(mean: [Double], stepSize: Double, covariance model: CMAES.Covariance, strategy: CMAESStrategy) {
        let n = mean.count
        covarianceModel = model
        self.strategy = strategy
        self.mean = mean
        self.stepSize = stepSize
        var identity = [Double](repeating: 0, count: n * n)
        for i in 0..<n { identity[i * n + i] = 1 }
        covariance = model == .separable ? [Double](repeating: 1, count: n) : identity
        covariancePath = [Double](repeating: 0, count: n)
        sigmaPath = [Double](repeating: 0, count: n)
        basis = model == .separable ? [] : identity
        scales = [Double](repeating: 1, count: n)
        generation = 0
        evaluations = 0
        decompositionGeneration = 0
    }

    /// The dimension n.
    public var dimension: Int { mean.count }

    /// The sampling covariance σ²C as an n×n row-major matrix (diagonal when separable).
    public var samplingCovariance: [Double] {
        let n = dimension, variance = stepSize * stepSize
        if covarianceModel == .separable {
            var matrix = [Double](repeating: 0, count: n * n)
            for i in 0..<n { matrix[i * n + i] = variance * covariance[i] }
            return matrix
        }
        return covariance.map { variance * $0 }
    }

    /// C's correlation matrix R_ij = C_ij / √(C_ii C_jj): how the parameters' good values depend on
    /// one another (n×n row-major).
    public var correlation: [Double] {
        let n = dimension
        let matrix = samplingCovariance
        var result = matrix
        for i in 0..<n {
            for j in 0..<n {
                result[i * n + j] = matrix[i * n + j] / (matrix[i * n + i] * matrix[j * n + j]).squareRoot()
            }
        }
        return result
    }

    /// max eigenvalue / min eigenvalue of C.
    public var conditionNumber: Double {
        guard let high = scales.max(), let low = scales.min(), low > 0 else { return .infinity }
        return (high / low) * (high / low)
    }

    /// Recomputes B and D from C (full covariance).
    mutating func refreshDecomposition() throws(TrainingError) {
        let decomposition = try SymmetricEigendecomposition(symmetric: covariance, dimension: dimension)
        guard let smallest = decomposition.eigenvalues.first, smallest > 0 else {
            throw .invalidOption(
                name: "CMA-ES covariance", value: "smallest eigenvalue \(decomposition.eigenvalues.first ?? .nan)",
                reason: "C is no longer positive definite")
        }
        basis = decomposition.eigenvectors
        scales = decomposition.eigenvalues.map { $0.squareRoot() }
        decompositionGeneration = generation
    }

    /// Recomputes D = √diag(C) (separable covariance).
    mutating func refreshScales() throws(TrainingError) {
        guard covariance.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw .invalidOption(name: "CMA-ES covariance", value: "a diagonal entry ≤ 0", reason: "C is no longer positive definite")
        }
        scales = covariance.map { $0.squareRoot() }
    }
}
