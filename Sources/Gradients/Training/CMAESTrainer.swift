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
/// ``TrainerError/diverged(iteration:rollbacks:lastFailure:)``. The final ``CMAESState`` — mean, σ
/// and the learned covariance — comes back in the result.
///
/// **Checkpoints** (as ``Trainer``'s, README "Reliability: limits, threads, interruption"): with a ``CheckpointStore``, every
/// `checkpointInterval` generations, after the last, and when ``shouldStop`` says so, the whole
/// ``CMAESCheckpoint`` (the strategy's state, the log, the rejection count) is written atomically.
/// `run(resume: true)` continues from the newest intact file; since every sample derives from
/// (seed, generation, index) and every task from (seed, iteration), the resumed run's log and state
/// equal an uninterrupted run's bit for bit, wall times aside. A checkpoint of another run (problem,
/// configuration, covariance model, σ₀, λ, seed) is refused naming the field.
public struct CMAESTrainer<Problem: TrainingTaskSource>: Sendable {
    /// What is trained.
    public let problem: Problem
    /// The strategy (covariance model, σ₀, λ, seed, threads).
    public let cmaes: CMAES
    /// Generations (`iterations`), the problem's seed, the held-out cadence and the failure limit;
    /// clipping does not apply.
    public let configuration: TrainerConfiguration
    /// Where checkpoints are written, or `nil` for none.
    public let checkpoints: CheckpointStore?
    /// Asked after every generation; when it returns true the run writes a checkpoint and returns
    /// the generations run so far (the command line sets it from SIGINT/SIGTERM).
    public var shouldStop: @Sendable () -> Bool = { false }

    /// A trainer; everything is validated when ``run(resume:onEvent:)`` starts.
    public init(problem: Problem, cmaes: CMAES, configuration: TrainerConfiguration, checkpoints: CheckpointStore? = nil) {
        self.problem = problem
        self.cmaes = cmaes
        self.configuration = configuration
        self.checkpoints = checkpoints
    }

    /// The identity checkpoints of this run carry: the strategy's settings stand in for the
    /// gradient method's and the optimizer's.
    public func identity() throws -> TrainingRunIdentity {
        TrainingRunIdentity(
            problem: problem.name, configuration: try problem.settingsDescription(),
            method: cmaes.name, methodSettings: "sigma0=\(cmaes.initialStepSize) population=\(cmaes.populationSize.map { "\($0)" } ?? "default")",
            optimizer: cmaes.name, seed: configuration.seed, parameterCount: problem.parameterNames.count, maxGradientNorm: nil)
    }

    /// The newest usable checkpoint, or nil when the store holds none; corrupt files are reported
    /// through `onEvent` and skipped, another run's file is an error, and so are files of which none is usable.
    public func latestCheckpoint(onEvent: (TrainingEvent) -> Void = { _ in }) throws -> CMAESCheckpoint? {
        guard let checkpoints else { return nil }
        let expected = try identity()
        var reasons: [String] = []
        let files = checkpoints.listing()
        for file in files {
            do {
                let checkpoint = try checkpoints.load(CMAESCheckpoint.self, from: file.path)
                if let difference = expected.firstDifference(from: checkpoint.identity) {
                    throw TrainerError.checkpointMismatch(
                        path: file.path, field: difference.field, expected: difference.mine, found: difference.theirs)
                }
                if let reason = checkpoint.inconsistency(parameterCount: expected.parameterCount) {
                    throw TrainerError.corruptCheckpoint(path: file.path, reason: "inconsistent contents: \(reason)")
                }
                onEvent(.resumed(path: file.path, iteration: checkpoint.log.count))
                return checkpoint
            } catch let error as TrainerError {
                if case .checkpointMismatch = error { throw error }
                reasons.append(error.description)
                onEvent(.checkpointRejected(path: file.path, reason: error.description))
            }
        }
        if !files.isEmpty { throw TrainerError.noUsableCheckpoint(directory: checkpoints.directory, reasons: reasons) }
        return nil
    }

    /// Runs `configuration.iterations` generations from the problem's seeded initialization, or,
    /// with `resume`, from the newest checkpoint when there is one.
    public func run(resume: Bool = false, onEvent: (TrainingEvent) -> Void = { _ in }) throws -> CMAESRun {
        try configuration.validate()
        guard configuration.learningRateSchedule == .constant, configuration.parameterScale == nil else {
            throw TrainingError.invalidOption(
                name: configuration.parameterScale == nil ? "learningRateSchedule" : "parameterScale",
                value: configuration.parameterScale.map { "\($0)" } ?? "\(configuration.learningRateSchedule)",
                reason: "CMA-ES adapts its own step size and covariance; it takes neither a schedule nor a scale")
        }
        try checkpoints?.prepare()
        let current = try (resume ? latestCheckpoint(onEvent: onEvent) : nil)
            ?? CMAESCheckpoint(
                identity: identity(), state: cmaes.start(at: problem.initialParameters(seed: configuration.seed)), log: [],
                rejected: 0, elapsed: 0)
        var state = current.state
        var log = current.log
        var rejected = current.rejected
        // A run that stopped early stays stopped: the decision depends only on the log.
        var stopReason = configuration.earlyStopping?.reason(toStop: log, higherIsBetter: problem.testMetric?.higherIsBetter ?? false)
        if stopReason != nil { return CMAESRun(log: log, state: state, stopReason: stopReason) }
        let total = configuration.iterations
        let start = DispatchTime.now().uptimeNanoseconds
        let failureLimit = configuration.failuresBeforeRollback * (configuration.maximumRollbacks + 1)
        for iteration in log.count..<max(log.count, total) {
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
                    record.outcome = .keptAtTarget
                } else {
                    try cmaes.update(&state, losses: Array(evaluated.losses.prefix(candidates.count)))
                    rejected = 0
                }
            } catch {
                guard case let .tooManyFailedSamples(failed, samples, _) = error else { throw error }
                let reason = "\(failed) of \(samples) CMA-ES samples failed (first: \(evaluated.firstError ?? "?")); σ halved"
                rejected += 1
                notes.append("skipped: \(reason)")
                record.outcome = .skipped
                onEvent(.skipped(iteration: iteration, reason: reason))
                guard rejected < failureLimit else {
                    throw TrainerError.diverged(iteration: iteration, rollbacks: rejected, lastFailure: reason)
                }
                cmaes.reject(&state)
            }
            let session = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            record.wallTime = current.elapsed + session
            record.event = notes.isEmpty ? nil : notes.joined(separator: "; ")
            log.append(record)
            let rate = Double(log.count - current.log.count) / max(session, 1e-9)
            onEvent(.iteration(record, of: total, rate: rate, remaining: Double(total - iteration - 1) / rate))
            stopReason = configuration.earlyStopping?.reason(toStop: log, higherIsBetter: problem.testMetric?.higherIsBetter ?? false)
            if let stopReason { onEvent(.stoppedEarly(stopReason)) }
            let stopping = stopReason != nil || shouldStop()
            if let checkpoints, stopping || log.count % configuration.checkpointInterval == 0 || log.count == total {
                let snapshot = CMAESCheckpoint(identity: current.identity, state: state, log: log, rejected: rejected, elapsed: record.wallTime)
                onEvent(.checkpointSaved(path: try checkpoints.save(snapshot, iteration: log.count), iteration: log.count))
            }
            if stopping { break }
        }
        return CMAESRun(log: log, state: state, stopReason: stopReason)
    }
}

/// Everything a ``CMAESTrainer`` run carries from one generation to the next, as a checkpoint holds it.
public struct CMAESCheckpoint: Sendable, Codable {
    /// The run this state belongs to; it resumes only under an equal identity.
    public var identity: TrainingRunIdentity
    /// The strategy's state after the last generation run.
    public var state: CMAESState
    /// One record per generation run (the next generation is `log.count`).
    public var log: [TrainingRecord]
    /// Rejected generations in a row.
    public var rejected: Int
    /// Wall-clock seconds spent, over every session.
    public var elapsed: Double

    /// Why this checkpoint, although it decoded, cannot belong to a run with `parameterCount` parameters; nil when consistent.
    func inconsistency(parameterCount: Int) -> String? {
        guard state.mean.count == parameterCount else { return "the mean has \(state.mean.count) entries, the run has \(parameterCount)" }
        if let index = log.indices.first(where: { log[$0].iteration != $0 }) { return "log row \(index) is for iteration \(log[index].iteration)" }
        guard rejected >= 0, elapsed.isFinite, elapsed >= 0 else { return "negative rejection count or elapsed time" }
        guard state.stepSize.isFinite, state.stepSize > 0, state.mean.allSatisfy(\.isFinite) else { return "σ or the mean is not finite and positive" }
        return nil
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
