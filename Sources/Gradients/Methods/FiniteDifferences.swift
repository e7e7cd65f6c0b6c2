import Dispatch
import Foundation
import NeuroODE

/// Central finite differences, g_i ≈ (L(θ + hᵢeᵢ) − L(θ − hᵢeᵢ)) / (2hᵢ) with hᵢ = step·max(1, |θᵢ|).
///
/// The reference the other methods are tested against: truncation error O(h²), roundoff
/// O(ε·|L|/h), so the default h ≈ 1e-5 balances the two to about 1e-10 relative for smooth losses.
/// Costs 2·d forward solves; the probes run in parallel and are summed in index order, so the
/// result does not depend on the thread count.
public struct FiniteDifferences: GradientMethod {
    /// The relative step h: entry i moves by h·max(1, |θᵢ|).
    public var step: Double
    /// Worker threads for the probes; the result does not depend on the count.
    public var threads: Int

    /// Central differences with relative step `step`, over `threads` cores (at least 1).
    public init(step: Double = 1e-5, threads: Int = Parallelism.defaultThreadCount) {
        self.step = step
        self.threads = max(1, threads)
    }

    public var name: String { "fd" }

    public func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        try task.requireDoublePrecision(by: name)
        return try estimate(task, at: theta)
    }

    /// Estimates the gradient of `objective` at `parameters`, over `indices` (default: all).
    public func estimate(_ objective: some Objective, at parameters: [Double], indices: [Int]? = nil) throws -> GradientEstimate {
        let start = DispatchTime.now().uptimeNanoseconds
        let selected = indices ?? Array(0..<parameters.count)
        let center = try objective.evaluate(at: parameters)
        let probes = ProbeResults(count: 2 * selected.count)
        let chunk = (probes.count + threads - 1) / threads
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            for probe in (worker * chunk)..<min(probes.count, (worker + 1) * chunk) {
                let i = selected[probe / 2]
                var shifted = parameters
                shifted[i] += (probe % 2 == 0 ? 1 : -1) * step * max(1, abs(parameters[i]))
                probes.store(probe, Result { try objective.evaluate(at: shifted) })
            }
        }
        var gradient = [Double](repeating: 0, count: selected.count)
        for (k, i) in selected.enumerated() {
            let h = step * max(1, abs(parameters[i]))
            gradient[k] = (try probes.value(2 * k).get() - probes.value(2 * k + 1).get()) / (2 * h)
        }
        var report = GradientReport()
        report.forwardSolves = 1 + probes.count
        report.rightHandSideEvaluations = center.rightHandSideEvaluations + probes.rightHandSideEvaluations
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return GradientEstimate(loss: center.loss, gradient: gradient, report: report)
    }
}

/// Per-probe results written by concurrent workers into distinct slots, with the right-hand-side
/// evaluations of the probes that succeeded summed (a failed solve reports none).
final class ProbeResults: @unchecked Sendable {
    private var results: [Result<ObjectiveEvaluation, any Error>]
    private let lock = NSLock()
    let count: Int

    init(count: Int) {
        self.count = count
        results = Array(repeating: .success(ObjectiveEvaluation(loss: .nan, rightHandSideEvaluations: 0)), count: count)
    }

    func store(_ index: Int, _ result: Result<ObjectiveEvaluation, any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    func value(_ index: Int) -> Result<Double, any Error> {
        lock.lock()
        defer { lock.unlock() }
        return results[index].map(\.loss)
    }

    /// Every probe's result, in index order.
    var all: [Result<ObjectiveEvaluation, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results
    }

    /// Right-hand-side evaluations of the probes that succeeded.
    var rightHandSideEvaluations: Int {
        all.reduce(0) { total, result in total + ((try? result.get().rightHandSideEvaluations) ?? 0) }
    }
}
