import Dispatch
import Foundation
import NeuroODE

/// The covariance matrix adaptation evolution strategy (CMA-ES; Hansen, "The CMA Evolution
/// Strategy: A Tutorial", 2016): a gradient-free optimizer of θ that samples a population
/// x_k = m + σ·B·D·z_k, z_k ~ N(0, I), from a Gaussian whose mean m, step size σ and covariance
/// C = B·D²·Bᵀ it adapts from the ranking of the population's losses.
///
/// Unlike ``EvolutionStrategy`` (a gradient *estimator* feeding Adam) it is a whole optimizer: its
/// state (``CMAESState``) replaces θ and the optimizer's moments, and ``CMAESTrainer`` runs it on a
/// ``TrainingProblem``. The defaults are the tutorial's (README "CMA-ES"): λ = 4 + ⌊3 ln n⌋,
/// μ = ⌊λ/2⌋ positive log-rank weights w_i ∝ ln((λ+1)/2) − ln i, cumulative step-size adaptation
/// (c_σ, d_σ), rank-one (c_1, c_c) and rank-μ (c_μ) covariance updates with the h_σ stall, and the
/// eigendecomposition refreshed every ⌈λ/(10 n (c_1 + c_μ))⌉ generations (lazy update).
///
/// `separable` is sep-CMA-ES (Ros & Hansen, PPSN 2008): C diagonal, learning rates c_1 and c_μ
/// multiplied by (n + 2)/3, O(n) per sample instead of O(n²) and no eigendecomposition; for
/// hundreds of parameters or more, and for separable problems.
///
/// **Determinism.** z_k is regenerated from (seed, generation, k), the population is evaluated in
/// parallel into per-index slots, and ranks break ties by index, so a run is bit-identical for any
/// thread count. **Failures** (a thrown evaluation or a non-finite loss) rank worst; a generation
/// with fewer than μ finite losses is rejected (``update(_:losses:)`` throws) and changes nothing.
public struct CMAES: Sendable {
    /// Full covariance or the separable (diagonal) variant.
    public enum Covariance: String, Sendable, Codable, CaseIterable {
        case full, separable
    }

    /// Which covariance model is adapted.
    public var covariance: Covariance
    /// σ₀, the initial step size in θ's units: about a quarter to a half of the region where the
    /// optimum is expected.
    public var initialStepSize: Double
    /// λ; nil for the default 4 + ⌊3 ln n⌋.
    public var populationSize: Int?
    /// Seed of the samples; with the generation and the index it regenerates every z_k.
    public var seed: UInt64
    /// Worker threads for a population's evaluations; results do not depend on the count.
    public var threads: Int
    /// The ranks that share a population's evaluations (contiguous blocks; only the losses are
    /// exchanged, README "Beyond one machine: MPI"); results do not depend on their number.
    public var communicator: any Communicator

    /// A CMA-ES with the tutorial's defaults.
    public init(
        covariance: Covariance = .full, initialStepSize: Double = 0.5, populationSize: Int? = nil, seed: UInt64 = 0,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, communicator: any Communicator = ProcessGroup.world
    ) {
        self.covariance = covariance
        self.initialStepSize = initialStepSize
        self.populationSize = populationSize
        self.seed = seed
        self.threads = max(1, threads)
        self.communicator = communicator
    }

    /// The command-line and result-file name: `cmaes` or `sep-cmaes`.
    public var name: String { covariance == .full ? "cmaes" : "sep-cmaes" }

    /// Checks the options, naming the bad one.
    public func validate() throws(TrainingError) {
        guard initialStepSize.isFinite, initialStepSize > 0 else {
            throw .invalidOption(name: "sigma", value: "\(initialStepSize)", reason: "CMA-ES's initial step size must be finite and positive")
        }
        if let populationSize, populationSize < 4 {
            throw .invalidOption(name: "population", value: "\(populationSize)", reason: "CMA-ES needs at least 4 samples per generation")
        }
    }

    /// The strategy's constants for `dimension` parameters.
    public func strategy(dimension n: Int) throws(TrainingError) -> CMAESStrategy {
        try validate()
        guard n >= 1 else { throw .invalidOption(name: "parameters", value: "\(n)", reason: "CMA-ES needs at least one parameter") }
        return CMAESStrategy(dimension: n, populationSize: populationSize, separable: covariance == .separable)
    }

    /// The state before the first generation: mean `mean`, step size σ₀, C = I.
    public func start(at mean: [Double]) throws(TrainingError) -> CMAESState {
        let constants = try strategy(dimension: mean.count)
        guard mean.allSatisfy(\.isFinite) else {
            throw .invalidOption(name: "initial mean", value: "\(mean)", reason: "must be finite")
        }
        return CMAESState(mean: mean, stepSize: initialStepSize, covariance: covariance, strategy: constants)
    }

    /// The normal deviates z_k of sample `index` in `generation`.
    func deviates(generation: Int, index: Int, count: Int) -> [Double] {
        var generator = SeededGenerator(seed: seed, stream: UInt64(generation), UInt64(index))
        return (0..<count).map { _ in generator.nextGaussian() }
    }

    /// y_k = B·D·z_k of sample `index` (x_k = m + σ·y_k).
    func direction(of state: CMAESState, index: Int) -> [Double] {
        let n = state.mean.count
        let z = deviates(generation: state.generation, index: index, count: n)
        if state.covarianceModel == .separable {
            return (0..<n).map { state.scales[$0] * z[$0] }
        }
        var y = [Double](repeating: 0, count: n)
        for k in 0..<n {
            let scaled = state.scales[k] * z[k]
            let column = k * n
            for i in 0..<n { y[i] += state.basis[column + i] * scaled }
        }
        return y
    }

    /// The λ candidates x_k = m + σ·y_k of the state's current generation.
    public func population(of state: CMAESState) -> [[Double]] {
        (0..<state.strategy.populationSize).map { index in
            let y = direction(of: state, index: index)
            return (0..<y.count).map { state.mean[$0] + state.stepSize * y[$0] }
        }
    }

    /// One generation's update from the losses of ``population(of:)`` (same order; NaN or ±∞
    /// for a failed evaluation). Throws ``TrainingError/tooManyFailedSamples(failed:total:firstError:)``
    /// when fewer than μ are finite (the state is unchanged), and
    /// ``TrainingError/invalidOption(name:value:reason:)`` when the covariance degenerates.
    public func update(_ state: inout CMAESState, losses: [Double]) throws(TrainingError) {
        let s = state.strategy
        let n = state.mean.count
        guard losses.count == s.populationSize else {
            throw .invalidOption(name: "losses", value: "\(losses.count)", reason: "expected one per sample (\(s.populationSize))")
        }
        let failed = losses.filter { !$0.isFinite }.count
        guard s.populationSize - failed >= s.parents else {
            throw .tooManyFailedSamples(failed: failed, total: s.populationSize, firstError: "fewer than μ = \(s.parents) finite losses")
        }
        let order = Self.ranking(losses)
        var next = state
        // y_w = Σ w_i y_{i:λ}: the mean's step in units of σ.
        var selected: [[Double]] = []
        selected.reserveCapacity(s.parents)
        var yw = [Double](repeating: 0, count: n)
        for rank in 0..<s.parents {
            let y = direction(of: state, index: order[rank])
            for i in 0..<n { yw[i] += s.weights[rank] * y[i] }
            selected.append(y)
        }
        for i in 0..<n { next.mean[i] += state.stepSize * yw[i] }

        // C^{-1/2}·y_w = B·D⁻¹·Bᵀ·y_w, for the conjugate evolution path.
        var whitened = [Double](repeating: 0, count: n)
        if state.covarianceModel == .separable {
            for i in 0..<n { whitened[i] = yw[i] / state.scales[i] }
        } else {
            for k in 0..<n {
                var projection = 0.0
                for i in 0..<n { projection += state.basis[k * n + i] * yw[i] }
                projection /= state.scales[k]
                for i in 0..<n { whitened[i] += state.basis[k * n + i] * projection }
            }
        }
        let sigmaFactor = (s.cSigma * (2 - s.cSigma) * s.effectiveParents).squareRoot()
        for i in 0..<n { next.sigmaPath[i] = (1 - s.cSigma) * state.sigmaPath[i] + sigmaFactor * whitened[i] }
        let sigmaPathNorm = next.sigmaPath.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let generations = Double(state.generation + 1)
        let stalled = sigmaPathNorm / (1 - pow(1 - s.cSigma, 2 * generations)).squareRoot()
            >= (1.4 + 2 / Double(n + 1)) * s.expectedNorm
        let hSigma: Double = stalled ? 0 : 1
        let cFactor = (s.cC * (2 - s.cC) * s.effectiveParents).squareRoot()
        for i in 0..<n { next.covariancePath[i] = (1 - s.cC) * state.covariancePath[i] + hSigma * cFactor * yw[i] }

        // C ← (1 − c1 − cμ + (1 − hσ)c1 cc(2 − cc))·C + c1·pc pcᵀ + cμ·Σ w_i y_i y_iᵀ.
        let decay = 1 - s.c1 - s.cMu + (1 - hSigma) * s.c1 * s.cC * (2 - s.cC)
        let pc = next.covariancePath
        if state.covarianceModel == .separable {
            for i in 0..<n {
                var rankMu = 0.0
                for rank in 0..<s.parents { rankMu += s.weights[rank] * selected[rank][i] * selected[rank][i] }
                next.covariance[i] = decay * state.covariance[i] + s.c1 * pc[i] * pc[i] + s.cMu * rankMu
            }
        } else {
            for i in 0..<n {
                for j in i..<n {
                    var rankMu = 0.0
                    for rank in 0..<s.parents { rankMu += s.weights[rank] * selected[rank][i] * selected[rank][j] }
                    let value = decay * state.covariance[i * n + j] + s.c1 * pc[i] * pc[j] + s.cMu * rankMu
                    next.covariance[i * n + j] = value
                    next.covariance[j * n + i] = value
                }
            }
        }
        next.stepSize = state.stepSize * exp((s.cSigma / s.dSigma) * (sigmaPathNorm / s.expectedNorm - 1))
        next.generation += 1
        next.evaluations += s.populationSize
        guard next.stepSize.isFinite, next.stepSize > 0, next.mean.allSatisfy(\.isFinite) else {
            throw .invalidOption(name: "CMA-ES state", value: "σ = \(next.stepSize)", reason: "the step size or mean is no longer finite and positive")
        }
        if state.covarianceModel == .separable {
            try next.refreshScales()
        } else if next.generation - next.decompositionGeneration >= s.decompositionInterval {
            try next.refreshDecomposition()
        }
        state = next
    }

    /// Rejects the current generation (too many failures): σ halves and the generation counter
    /// advances so the next samples are fresh; the mean, paths and covariance are unchanged.
    public func reject(_ state: inout CMAESState) {
        state.stepSize *= 0.5
        state.generation += 1
        state.evaluations += state.strategy.populationSize
    }

    /// Indices sorted by loss, best first; non-finite losses last, ties by index.
    static func ranking(_ losses: [Double]) -> [Int] {
        losses.indices.sorted { a, b in
            let x = losses[a].isFinite ? losses[a] : .infinity
            let y = losses[b].isFinite ? losses[b] : .infinity
            return x < y || (x == y && a < b)
        }
    }

    /// The losses of `candidates`, evaluated on `threads` cores of each rank into per-index slots; a thrown
    /// evaluation or a non-finite loss becomes +∞ (ranked worst), with its error kept.
    func evaluate(_ objective: some Objective, _ candidates: [[Double]]) -> (losses: [Double], firstError: String?, evaluations: Int) {
        let results = DistributedProbes(count: candidates.count, threads: threads, communicator: communicator).evaluate { probes, store in
            for index in probes { store(index, Result { try objective.evaluate(at: candidates[index]) }) }
        }
        var losses = [Double](repeating: .infinity, count: candidates.count)
        var firstError: String?
        var evaluations = 0
        for index in candidates.indices {
            switch results[index] {
            case let .success(value) where value.loss.isFinite:
                losses[index] = value.loss
                evaluations += value.rightHandSideEvaluations
            case let .success(value):
                firstError = firstError ?? "the loss is not finite (\(value.loss))"
                evaluations += value.rightHandSideEvaluations
            case let .failure(error): firstError = firstError ?? "\(error)"
            }
        }
        return (losses, firstError, evaluations)
    }

    /// Minimises `objective` from `mean` until the best loss falls below `target` or
    /// `maxEvaluations` samples were spent: the plain CMA-ES loop, for test functions and any
    /// fixed objective (``CMAESTrainer`` runs it on a training problem's changing tasks).
    public func minimize(
        _ objective: some Objective, from mean: [Double], target: Double = -.infinity, maxEvaluations: Int
    ) throws(TrainingError) -> CMAESResult {
        var state = try start(at: mean)
        guard mean.count == objective.parameterCount else {
            throw .invalidOption(name: "initial mean", value: "\(mean.count) entries", reason: "the objective has \(objective.parameterCount) parameters")
        }
        var best = (loss: Double.infinity, parameters: mean)
        while state.evaluations + state.strategy.populationSize <= maxEvaluations {
            let candidates = population(of: state)
            let (losses, firstError, _) = evaluate(objective, candidates)
            for (index, loss) in losses.enumerated() where loss < best.loss { best = (loss, candidates[index]) }
            do throws(TrainingError) {
                try update(&state, losses: losses)
            } catch let .tooManyFailedSamples(failed, total, _) {
                throw .tooManyFailedSamples(failed: failed, total: total, firstError: firstError ?? "")
            } catch {
                throw error
            }
            if best.loss < target { break }
        }
        return CMAESResult(bestLoss: best.loss, bestParameters: best.parameters, state: state)
    }
}

/// What ``CMAES/minimize(_:from:target:maxEvaluations:)`` found.
public struct CMAESResult: Sendable {
    /// The lowest loss evaluated.
    public var bestLoss: Double
    /// Where it was evaluated.
    public var bestParameters: [Double]
    /// The final state (mean, step size, learned covariance, evaluations spent).
    public var state: CMAESState
}
