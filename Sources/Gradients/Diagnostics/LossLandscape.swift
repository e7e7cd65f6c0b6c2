import Dispatch
import Foundation
import NeuroODE

/// A task's loss along one trained parameter, next to what ES actually descends — the
/// Gaussian-smoothed loss E[L(θ + σε)] — and to every method's gradient (SCIENCE.md turn-off task: "the
/// loss landscape over I ∈ [80, 120] with its Gaussian-smoothed version, and each method's
/// gradient there").
///
/// Along the scanned coordinate u (all other entries of θ fixed) the smoothed loss and its
/// derivative are Gauss–Hermite sums over loss evaluations at u + σxⱼ:
///
///     L_σ(u) = Σⱼ wⱼ L(u + σxⱼ),   L_σ′(u) = (1/σ) Σⱼ wⱼ xⱼ L(u + σxⱼ)
///
/// (Stein's identity; for one scanned parameter this is exactly the expectation ES's estimator
/// targets). Every loss evaluation and every gradient estimate is an independent job; jobs run on
/// `threads` workers that take the next job from a shared counter, and each result lands in its
/// own slot, so the scan is bit-identical for any thread count as long as the methods themselves
/// are (give ES and FD `threads: 1` here: the scan is already parallel). For the same reason a
/// method that shares its work among the ranks of an MPI job is refused: give it ``SingleProcess``
/// (each rank of a job then scans alone, and rank 0 writes).
public struct LossLandscape: Sendable {
    /// One scanned point.
    public struct Point: Sendable {
        /// The scanned parameter's value u.
        public var value: Double
        /// L(u); NaN when the forward solve failed.
        public var loss: Double
        /// L_σ(u); NaN when any of its evaluations failed.
        public var smoothedLoss: Double
        /// L_σ′(u), the gradient ES estimates; NaN when any evaluation failed.
        public var smoothedGradient: Double
        /// Each method's derivative with respect to u, in the order of ``LossLandscape/methods``;
        /// NaN when the method failed.
        public var gradients: [Double]
    }

    /// How many jobs of a scan failed, and the first error met (in job order).
    public struct Failures: Sendable {
        /// The number of failed jobs.
        public var count = 0
        /// The first failure's description, in job order.
        public var first: String?
    }

    /// The scanned values u.
    public var values: [Double]
    /// σ of the Gaussian smoothing, in the scanned parameter's units.
    public var sigma: Double
    /// The Gauss–Hermite nodes and weights of the smoothing sums.
    public var rule: GaussHermiteRule
    /// The gradient methods evaluated at every scanned value.
    public var methods: [any GradientMethod]
    /// Worker threads (at least 1); the scan is bit-identical for any count.
    public var threads: Int

    /// A scan of `values` with smoothing scale `sigma` and a `nodes`-point Gauss–Hermite rule.
    ///
    /// - Throws: `TrainingError` for a σ that is not finite and positive, no or non-finite values,
    ///   or an invalid node count.
    public init(values: [Double], sigma: Double, nodes: Int, methods: [any GradientMethod],
                threads: Int = Parallelism.defaultThreadCount) throws(TrainingError) {
        guard sigma.isFinite, sigma > 0 else {
            throw .invalidOption(name: "sigma", value: "\(sigma)", reason: "must be finite and positive")
        }
        guard !values.isEmpty, values.allSatisfy(\.isFinite) else {
            throw .invalidOption(name: "values", value: "\(values)", reason: "need at least one finite value")
        }
        for case let method as any SharesWorkAmongRanks in methods where method.communicator.size > 1 {
            throw .invalidOption(
                name: "method", value: (method as? any GradientMethod)?.name ?? "?",
                reason: "it shares its work among \(method.communicator.size) MPI ranks, but the scan calls the methods concurrently; give it SingleProcess()")
        }
        self.values = values
        self.sigma = sigma
        rule = try GaussHermiteRule(order: nodes)
        self.methods = methods
        self.threads = max(1, threads)
    }

    /// Scans entry `index` of θ. `progress(done, total)` is called after every job, from the
    /// worker that finished it.
    public func scan<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, along index: Int, at theta: [Double],
        progress: (@Sendable (Int, Int) -> Void)? = nil
    ) throws -> (points: [Point], failures: Failures) {
        guard theta.indices.contains(index) else {
            throw ODEError.dimensionMismatch(what: "scanned parameter index of task \(task.name)", expected: theta.count, actual: index)
        }
        _ = try task.split(theta)
        let nodes = rule.nodes.count
        // Per point: the loss, the Gauss–Hermite evaluations, then one job per method.
        let perPoint = 1 + nodes + methods.count
        let total = values.count * perPoint
        let results = JobResults(count: total)
        let counter = JobCounter()
        let methods = self.methods, values = self.values, rule = self.rule, sigma = self.sigma
        DispatchQueue.concurrentPerform(iterations: min(threads, total)) { _ in
            while let job = counter.next(below: total) {
                let point = job / perPoint, slot = job % perPoint
                var shifted = theta
                shifted[index] = values[point]
                let outcome = Result { () throws -> Double in
                    switch slot {
                    case 0:
                        return try task.loss(at: shifted)
                    case 1...nodes:
                        shifted[index] += sigma * rule.nodes[slot - 1]
                        return try task.loss(at: shifted)
                    default:
                        // The same iteration at every point: ES sees common random numbers, so
                        // its curve differs from the smoothed gradient by estimator error only.
                        let estimate = try methods[slot - 1 - nodes].estimate(task, at: shifted, iteration: 0)
                        guard estimate.gradient[index].isFinite else { throw TrainingError.nonFiniteLoss(estimate.gradient[index]) }
                        return estimate.gradient[index]
                    }
                }
                let done = results.store(job, outcome)
                progress?(done, total)
            }
        }

        var failures = Failures()
        var points: [Point] = []
        points.reserveCapacity(values.count)
        for point in values.indices {
            func value(_ slot: Int) -> Double {
                switch results.value(point * perPoint + slot) {
                case let .success(value):
                    return value
                case let .failure(error):
                    failures.count += 1
                    failures.first = failures.first ?? "\(error)"
                    return .nan
                }
            }
            let loss = value(0)
            var smoothed = 0.0, slope = 0.0
            for j in 0..<nodes {
                let sample = value(1 + j)
                smoothed += rule.weights[j] * sample
                slope += rule.weights[j] * rule.nodes[j] * sample
            }
            let gradients = methods.indices.map { value(1 + nodes + $0) }
            points.append(Point(value: values[point], loss: loss, smoothedLoss: smoothed, smoothedGradient: slope / sigma, gradients: gradients))
        }
        return (points, failures)
    }
}

/// Hands out job indices 0, 1, 2, … to concurrent workers.
final class JobCounter: @unchecked Sendable {
    private var nextJob = 0
    private let lock = NSLock()

    func next(below total: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard nextJob < total else { return nil }
        nextJob += 1
        return nextJob - 1
    }
}

/// Per-job results written by concurrent workers into distinct slots; ``store(_:_:)`` returns how
/// many jobs have finished.
final class JobResults: @unchecked Sendable {
    private var results: [Result<Double, any Error>]
    private var finished = 0
    private let lock = NSLock()

    init(count: Int) {
        results = Array(repeating: .success(.nan), count: count)
    }

    func store(_ index: Int, _ result: Result<Double, any Error>) -> Int {
        lock.lock()
        defer { lock.unlock() }
        results[index] = result
        finished += 1
        return finished
    }

    func value(_ index: Int) -> Result<Double, any Error> {
        lock.lock()
        defer { lock.unlock() }
        return results[index]
    }
}
