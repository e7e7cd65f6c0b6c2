import Dispatch
import Foundation
import NeuroODE

/// Gradient estimation by an evolution strategy: the gradient of the Gaussian-smoothed loss
/// E[L(θ + σε)], ε ~ N(0, I), from forward passes only (SCIENCE.md "Gradient methods").
///
/// - `mirrored` (the paper's): ĝ = 1/(σS) Σ_{i ≤ S/2} (L(θ+σεᵢ) − L(θ−σεᵢ)) εᵢ, S even.
/// - `plain` (the authors' code): ĝ = 1/(σS) Σ_{i ≤ S} (L(θ+σεᵢ) − L(θ)) εᵢ, one unperturbed sample.
/// - Centred-rank fitness shaping replaces each loss by its rank mapped to [−½, ½] (then
///   ĝ estimates a rank-transformed direction, not the gradient's scale: use it with Adam).
///
/// Samples run in parallel on `threads` cores of each process of ``communicator``. Each
/// perturbation is regenerated from (seed, iteration, index) and the sum is taken in index order,
/// so the estimate is bit-identical for any thread and process count. A sample whose simulation fails (solver error, non-finite loss) is counted;
/// without rank shaping its mirrored pair (or plain sample) is dropped and the average taken over the
/// rest, with rank shaping it is ranked worst. More than half failing is an error.
public struct EvolutionStrategy: GradientMethod, SharesWorkAmongRanks {
    /// How perturbations are drawn: mirrored pairs ±εᵢ (the paper), or plain εᵢ against L(θ).
    public enum Sampling: String, Sendable, CaseIterable {
        case mirrored, plain
    }

    /// S, the forward solves per estimate besides θ itself (even when mirrored: S/2 pairs).
    public var samples: Int
    /// σ, the perturbation scale, in the units of θ (one σ for every entry: rescale θ when its
    /// entries differ in size). The estimate is of the loss smoothed at this scale.
    public var sigma: Double
    /// Mirrored (default) or plain sampling.
    public var sampling: Sampling
    /// Replace losses by centred ranks: robust to outliers and failures, but the estimate loses the
    /// gradient's scale (use it with Adam).
    public var rankShaping: Bool
    /// Seed of the perturbations; with the iteration and sample index it regenerates every εᵢ.
    public var seed: UInt64
    /// Worker threads for the samples; the result is bit-identical for every count.
    public var threads: Int
    /// The ranks that share the samples (README "Beyond one machine: MPI"): each evaluates a
    /// contiguous block of them and only each sample's loss, right-hand-side count and failure flag
    /// are exchanged; every rank then regenerates the noise and forms the same estimate. The result is bit-identical for any
    /// number of ranks.
    public var communicator: any Communicator

    /// An ES estimator with `samples` forward solves per estimate at scale `sigma`.
    ///
    /// It estimates the gradient of the smoothed loss E[L(θ + σε)], not of L itself: the two differ
    /// by O(σ²) for smooth losses and arbitrarily where L has features finer than σ (spikes). The
    /// estimate's noise falls as 1/√S. `threads` is clamped to at least 1.
    public init(samples: Int = 100, sigma: Double = 0.1, sampling: Sampling = .mirrored, rankShaping: Bool = false,
                seed: UInt64 = 0, threads: Int = Parallelism.defaultThreadCount, communicator: any Communicator = ProcessGroup.world) {
        self.samples = samples
        self.sigma = sigma
        self.sampling = sampling
        self.rankShaping = rankShaping
        self.seed = seed
        self.threads = max(1, threads)
        self.communicator = communicator
    }

    public var name: String { "es" }

    /// Checks the options, naming the bad one.
    public func validate() throws(TrainingError) {
        guard sigma.isFinite, sigma > 0 else {
            throw .invalidOption(name: "sigma", value: "\(sigma)", reason: "must be finite and positive")
        }
        guard samples >= 2 else { throw .invalidOption(name: "samples", value: "\(samples)", reason: "need at least 2") }
        if sampling == .mirrored, samples % 2 != 0 {
            throw .invalidOption(name: "samples", value: "\(samples)", reason: "mirrored sampling needs an even count")
        }
    }

    /// The perturbation direction εᵢ of `index` at `iteration`, regenerated from the seed.
    public func perturbation(iteration: Int, index: Int, count: Int) -> [Double] {
        var generator = SeededGenerator(seed: seed, stream: UInt64(iteration), UInt64(index))
        return (0..<count).map { _ in generator.nextGaussian() }
    }

    public func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        try estimate(objective: task, at: theta, iteration: iteration)
    }

    /// The estimate for any forward-only objective. A caller that has already evaluated the loss at
    /// θ passes it as `center` and saves that forward solve.
    public func estimate(objective: some Objective, at theta: [Double], iteration: Int, center known: Double? = nil) throws -> GradientEstimate {
        try validate()
        let clock = DispatchTime.now().uptimeNanoseconds
        let d = theta.count
        let directions = sampling == .mirrored ? samples / 2 : samples
        // Evaluation slots: 0 is θ itself, then (+εᵢ, −εᵢ) per direction when mirrored, +εᵢ when plain.
        let perDirection = sampling == .mirrored ? 2 : 1
        let slots = 1 + directions * perDirection
        let results = DistributedProbes(count: slots, threads: threads, communicator: communicator).evaluate { probes, store in
            var cachedDirection = -1
            var epsilon: [Double] = []
            var point = theta
            for slot in probes {
                if slot > 0 {
                    let direction = (slot - 1) / perDirection
                    if direction != cachedDirection {
                        epsilon = perturbation(iteration: iteration, index: direction, count: d)
                        cachedDirection = direction
                    }
                    let sign: Double = (slot - 1) % perDirection == 0 ? 1 : -1
                    for j in 0..<d { point[j] = theta[j] + sign * sigma * epsilon[j] }
                } else if let known {
                    store(0, .success(ObjectiveEvaluation(loss: known, rightHandSideEvaluations: 0)))
                    continue
                } else {
                    point = theta
                }
                let evaluated = point
                store(slot, Result { () throws -> ObjectiveEvaluation in
                    let evaluation = try objective.evaluate(at: evaluated)
                    guard evaluation.loss.isFinite else { throw TrainingError.nonFiniteLoss(evaluation.loss) }
                    return evaluation
                })
            }
        }

        var losses = [Double](repeating: .nan, count: slots)
        var failed = 0
        var firstError: String?
        var rightHandSideEvaluations = 0
        for slot in 1..<slots {
            switch results[slot] {
            case let .success(value):
                losses[slot] = value.loss
                rightHandSideEvaluations += value.rightHandSideEvaluations
            case let .failure(error):
                failed += 1
                firstError = firstError ?? "\(error)"
            }
        }
        let sampled = slots - 1
        if failed * 2 > sampled {
            throw TrainingError.tooManyFailedSamples(failed: failed, total: sampled, firstError: firstError ?? "")
        }
        // The loss at θ itself is reported (and needed by plain sampling); its failure is fatal here
        // and is handled by the training loop like any non-finite loss.
        let centerEvaluation = try results[0].get()
        let center = centerEvaluation.loss
        let fitness = rankShaping ? Self.centredRanks(losses, from: 1) : losses

        // Weights per direction, then one regeneration pass in index order.
        var weights = [Double](repeating: 0, count: directions)
        var used = 0
        for direction in 0..<directions {
            let slot = 1 + direction * perDirection
            let weight: Double
            if sampling == .mirrored {
                weight = fitness[slot] - fitness[slot + 1]
            } else {
                weight = fitness[slot] - (rankShaping ? 0 : center)
            }
            if weight.isFinite {
                weights[direction] = weight
                used += perDirection
            }
        }
        var gradient = [Double](repeating: 0, count: d)
        if used > 0 {
            for direction in 0..<directions where weights[direction] != 0 {
                let epsilon = perturbation(iteration: iteration, index: direction, count: d)
                for j in 0..<d { gradient[j] += weights[direction] * epsilon[j] }
            }
            let scale = 1 / (sigma * Double(used))
            for j in 0..<d { gradient[j] *= scale }
        }
        var report = GradientReport()
        report.forwardSolves = known == nil ? slots : slots - 1
        report.failedSamples = failed
        report.rightHandSideEvaluations = rightHandSideEvaluations + centerEvaluation.rightHandSideEvaluations
        report.bytesStored = (threads * 2 + 2) * d * MemoryLayout<Double>.stride
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return GradientEstimate(loss: center, gradient: gradient, report: report)
    }

    /// Centred ranks in [−½, ½] of `values[from...]` (ties share the mean rank); NaN (a failed
    /// sample) ranks worst, i.e. highest loss.
    static func centredRanks(_ values: [Double], from start: Int) -> [Double] {
        let indices = Array(start..<values.count)
        let sorted = indices.sorted { a, b in
            let x = values[a].isNaN ? Double.infinity : values[a]
            let y = values[b].isNaN ? Double.infinity : values[b]
            return x < y || (x == y && a < b)
        }
        var ranks = values
        let n = Double(indices.count)
        var position = 0
        while position < sorted.count {
            var end = position
            let key = values[sorted[position]].isNaN ? Double.infinity : values[sorted[position]]
            while end + 1 < sorted.count, (values[sorted[end + 1]].isNaN ? Double.infinity : values[sorted[end + 1]]) == key { end += 1 }
            let meanRank = Double(position + end) / 2
            for k in position...end { ranks[sorted[k]] = n > 1 ? meanRank / (n - 1) - 0.5 : 0 }
            position = end + 1
        }
        return ranks
    }
}
