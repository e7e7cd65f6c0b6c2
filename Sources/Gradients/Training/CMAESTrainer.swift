import Dispatch
import Foundation
import NeuroODE

/// The training loop for ``CMAES``: one generation per iteration on that iteration's task, so a
/// ``TrainingTaskSource`` (a benchmark problem or a single ``TrainingTask``) trains by CMA-ES
/// exactly as it trains by a gradient method and an optimizer under ``Trainer`` — same
/// minibatches, same log rows, same held-out metric, same ``EarlyStopping`` (the generation that
/// reaches the target leaves the distribution as it is, so the mean is the θ that reached it). CMA-ES adapts its own
/// step size σ and covariance, so a learning-rate schedule or a parameter scale is refused.
///
/// Per iteration: the problem's task for (seed, iteration); the λ candidates and the mean m (CMA-ES's
/// θ) evaluated in parallel; one ``CMAES/update(_:losses:)``; one ``TrainingRecord``. The logged
/// loss is L(m), comparable with the other methods' L(θ); `learningRate` holds the step size σ and
/// `gradientNorm` is NaN (there is no gradient). Each generation costs λ + 1 forward solves.
///
/// **Faults.** Failed candidates rank worst. A generation with fewer than μ finite losses is
/// rejected: the distribution stays where it was, σ is halved and the sample stream advances (so
/// the next generation draws afresh, closer to m). After `failuresBeforeRollback ×
/// (maximumRollbacks + 1)` rejected generations in a row training stops with
/// ``TrainerError/diverged(iteration:rollbacks:lastFailure:)``. Runs are in memory (no checkpoint
/// files); the final ``CMAESState`` — mean, σ and the learned covariance — comes back in the result.
public struct CMAESTrainer<Problem: TrainingTaskSource>: Sendable {
    /// What is trained.
    public let problem: Problem
    /// The strategy (covariance model, σ₀, λ, seed, threads).
    public let cmaes: CMAES
    /// Generations (`iterations`), the problem's seed, the held-out cadence and the failure limit;
    /// clipping does not apply.
    public let configuration: TrainerConfiguration

    /// A trainer; everything is validated when ``run(onEvent:)`` starts.
    public init(problem: Problem, cmaes: CMAES, configuration: TrainerConfiguration) {
        self.problem = problem
        self.cmaes = cmaes
        self.configuration = configuration
    }

    /// Runs `configuration.iterations` generations from the problem's seeded initialization, or
    /// fewer when ``TrainerConfiguration/earlyStopping`` ends the run.
    public func run(onEvent: (TrainingEvent) -> Void = { _ in }) throws -> CMAESRun {
        try configuration.validate()
        guard configuration.learningRateSchedule == .constant, configuration.parameterScale == nil else {
            throw TrainingError.invalidOption(
                name: configuration.parameterScale == nil ? "learningRateSchedule" : "parameterScale",
                value: configuration.parameterScale.map { "\($0)" } ?? "\(configuration.learningRateSchedule)",
                reason: "CMA-ES adapts its own step size and covariance; it takes neither a schedule nor a scale")
        }
        var state = try cmaes.start(at: problem.initialParameters(seed: configuration.seed))
        var log: [TrainingRecord] = []
        var rejected = 0
        var stopReason: EarlyStopping.Reason?
        let total = configuration.iterations
        let start = DispatchTime.now().uptimeNanoseconds
        let failureLimit = configuration.failuresBeforeRollback * (configuration.maximumRollbacks + 1)
        for iteration in 0..<total {
            var record = TrainingRecord(
                iteration: iteration, wallTime: 0, loss: .nan, testMetric: nil, gradientNorm: .nan,
                learningRate: state.stepSize, bytesStored: (state.covariance.count + state.basis.count) * MemoryLayout<Double>.stride,
                peakBytes: nil, event: nil)
            var notes: [String] = []
            if problem.testMetric != nil, iteration % configuration.evaluationInterval == 0 || iteration == total - 1 {
                do {
                    record.testMetric = try problem.evaluateTestMetric(at: state.mean, seed: configuration.seed)
                } catch {
                    notes.append("test evaluation failed: \(error)")
                }
            }
            let task = try problem.task(iteration: iteration, seed: configuration.seed)
            let candidates = cmaes.population(of: state)
            let evaluated = cmaes.evaluate(task, candidates + [state.mean])
            // A failed evaluation comes back as +∞ (ranked worst); the log records it as NaN.
            let meanLoss = evaluated.losses[candidates.count]
            record.loss = meanLoss.isFinite ? meanLoss : .nan
            if !meanLoss.isFinite { notes.append("the loss at the mean failed") }
            do {
                if configuration.earlyStopping?.target?.isReached(by: record) == true {
                    notes.append("target reached: the mean kept")
                } else {
                    try cmaes.update(&state, losses: Array(evaluated.losses.prefix(candidates.count)))
                    rejected = 0
                }
            } catch {
                guard case let .tooManyFailedSamples(failed, samples, _) = error else { throw error }
                let reason = "\(failed) of \(samples) CMA-ES samples failed (first: \(evaluated.firstError ?? "?")); σ halved"
                rejected += 1
                notes.append("skipped: \(reason)")
                onEvent(.skipped(iteration: iteration, reason: reason))
                guard rejected < failureLimit else {
                    throw TrainerError.diverged(iteration: iteration, rollbacks: rejected, lastFailure: reason)
                }
                cmaes.reject(&state)
            }
            record.wallTime = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            record.event = notes.isEmpty ? nil : notes.joined(separator: "; ")
            log.append(record)
            let rate = Double(iteration + 1) / max(record.wallTime, 1e-9)
            onEvent(.iteration(record, of: total, rate: rate, remaining: Double(total - iteration - 1) / rate))
            stopReason = configuration.earlyStopping?.reason(toStop: log, higherIsBetter: problem.testMetric?.higherIsBetter ?? false)
            if let stopReason {
                onEvent(.stoppedEarly(stopReason))
                break
            }
        }
        return CMAESRun(log: log, state: state, stopReason: stopReason)
    }
}

/// A finished CMA-ES training run.
public struct CMAESRun: Sendable {
    /// One record per generation.
    public var log: [TrainingRecord]
    /// The final distribution: `mean` is the trained θ; the covariance is what CMA-ES learned
    /// about how the parameters depend on one another.
    public var state: CMAESState
    /// Why the run stopped before its generation count (``EarlyStopping``), or nil.
    public var stopReason: EarlyStopping.Reason?
}
