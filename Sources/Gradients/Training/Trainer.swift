import Dispatch
import Foundation
import NeuroODE

/// The training loop — the library's fit API: per iteration, the source's task for that
/// iteration, one gradient from the method, one guarded optimizer step at the scheduled learning
/// rate, one log row.
///
/// It trains any ``TrainingTaskSource``: a benchmark ``TrainingProblem`` or a single
/// ``TrainingTask`` of a user's own model (README "Your own model"), with any ``GradientMethod``
/// (BPTT, the adjoints, ES, hybrid ES, finite differences) and any ``Optimizer``. CMA-ES is its own
/// optimizer and runs under ``CMAESTrainer`` on the same sources.
///
/// **Schedule and early stopping.** Before every update the optimizer's rate is set to
/// ``TrainerConfiguration/learningRateSchedule`` at that iteration (η₀ the optimizer's own rate,
/// times ``TrainerConfiguration/learningRateFactor`` per rollback so far). After every iteration
/// ``TrainerConfiguration/earlyStopping`` may end the run; ``TrainerState/stopReason`` says why.
///
/// **Faults** (README "Reliability: limits, threads, interruption"). An iteration whose simulation fails, or whose loss or gradient is
/// not finite, changes neither θ nor the optimizer's moments; it is logged and reported. After
/// `failuresBeforeRollback` such iterations in a row, θ and the optimizer return to the last good
/// state (the last checkpoint taken with no failure pending) and the learning rate is multiplied
/// by `learningRateFactor`; past `maximumRollbacks` rollbacks training stops with
/// ``TrainerError/diverged(iteration:rollbacks:lastFailure:)``. Iterations keep counting through
/// failures and rollbacks, so every iteration sees fresh data and the log stays ordered.
///
/// **Checkpoints.** Every `checkpointInterval` iterations (and after the last) the whole
/// ``TrainerState`` becomes the rollback point and, with a ``CheckpointStore``, a file. Resuming
/// restores the newest intact file; a corrupt one is reported and an older one used. Since every
/// iteration's data and ES noise derive from (seed, iteration), a resumed run's log and θ equal an
/// uninterrupted run's bit for bit, wall times and measured peak memory aside.
///
/// **Progress** goes to the `onEvent` callback only (``TrainingEvent/iteration(_:of:rate:remaining:)``
/// carries the record with its loss and learning rate, the iterations per second and the estimated
/// seconds left); the library prints nothing.
public struct Trainer<Problem: TrainingTaskSource, Base: Optimizer>: Sendable {
    /// What is trained: its tasks, initial θ and held-out metric.
    public let problem: Problem
    /// The gradient estimator (BPTT, adjoint, ES, finite differences).
    public let method: any GradientMethod
    /// The method's settings in words; part of the run's identity, so a checkpoint is not resumed
    /// under other settings.
    public let methodSettings: String
    /// The update rule, before the trainer's safeguards (clipping, skipped non-finite steps) wrap it.
    public let optimizer: Base
    /// Length, seed, cadences and fault handling.
    public let configuration: TrainerConfiguration
    /// Where checkpoints are written, or `nil` to keep the rollback point in memory only.
    public let checkpoints: CheckpointStore?
    /// Asked after every iteration; when it returns true the run stops there, writes a checkpoint
    /// of the state reached (so that a resumed run continues exactly where this one stopped) and
    /// returns that state, with ``TrainerState/nextIteration`` short of the iteration count. The
    /// command line sets it from SIGINT/SIGTERM (README "Reliability: limits, threads, interruption").
    public var shouldStop: @Sendable () -> Bool = { false }

    /// A trainer; `configuration` is validated when a run starts, not here.
    public init(
        problem: Problem, method: any GradientMethod, methodSettings: String = "", optimizer: Base,
        configuration: TrainerConfiguration, checkpoints: CheckpointStore? = nil
    ) {
        self.problem = problem
        self.method = method
        self.methodSettings = methodSettings
        self.optimizer = optimizer
        self.configuration = configuration
        self.checkpoints = checkpoints
    }

    /// The identity checkpoints of this run carry.
    public func identity() throws -> TrainingRunIdentity {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let schedule = configuration.learningRateSchedule
        return TrainingRunIdentity(
            problem: problem.name, configuration: try problem.settingsDescription(), method: method.name, methodSettings: methodSettings,
            optimizer: optimizer.name, seed: configuration.seed, parameterCount: problem.parameterNames.count,
            maxGradientNorm: configuration.maxGradientNorm, learningRateSchedule: schedule == .constant ? nil : schedule.description,
            parameterScale: configuration.parameterScale,
            optimizerSettings: String(decoding: try encoder.encode(optimizer), as: UTF8.self))
    }

    /// The state before the first iteration: θ at the problem's seeded initialization.
    public func initialState() throws -> TrainerState<Base> {
        let theta = try problem.initialParameters(seed: configuration.seed)
        return TrainerState(
            identity: try identity(), parameters: theta,
            optimizer: SafeguardedOptimizer(optimizer, maxGradientNorm: configuration.maxGradientNorm))
    }

    /// The newest usable checkpoint, or nil when the store holds none. Corrupt files are reported
    /// through `onEvent` and skipped; if files exist but none is usable, that is an error, and so
    /// is a checkpoint of another run.
    public func latestCheckpoint(onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainerState<Base>? {
        guard let checkpoints else { return nil }
        let expected = try identity()
        var reasons: [String] = []
        let files = checkpoints.listing()
        for file in files {
            let state: TrainerState<Base>
            do {
                // The identity first: another run's file (another optimizer, say) must be reported
                // as such, not as a state that fails to decode.
                let header = try checkpoints.load(CheckpointHeader.self, from: file.path)
                if let difference = expected.firstDifference(from: header.identity) {
                    throw TrainerError.checkpointMismatch(
                        path: file.path, field: difference.field, expected: difference.mine, found: difference.theirs)
                }
                state = try checkpoints.load(TrainerState<Base>.self, from: file.path)
                if let reason = state.inconsistency(parameterCount: problem.parameterNames.count) {
                    throw TrainerError.corruptCheckpoint(path: file.path, reason: "inconsistent contents: \(reason)")
                }
            } catch let error as TrainerError {
                if case .checkpointMismatch = error { throw error }
                reasons.append(error.description)
                onEvent(.checkpointRejected(path: file.path, reason: error.description))
                continue
            }
            onEvent(.resumed(path: file.path, iteration: state.nextIteration))
            return state
        }
        if !files.isEmpty { throw TrainerError.noUsableCheckpoint(directory: checkpoints.directory, reasons: reasons) }
        return nil
    }

    /// Trains to `configuration.iterations`, from the newest checkpoint when `resume` is set and
    /// one exists, else from the initialization.
    public func run(resume: Bool = false, onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainerState<Base> {
        try validate()
        try checkpoints?.prepare()
        let start = try (resume ? latestCheckpoint(onEvent: onEvent) : nil) ?? initialState()
        // Under MPI, every rank has read its start before rank 0 writes a checkpoint.
        ProcessGroup.world.barrier()
        return try train(from: start, onEvent: onEvent)
    }

    /// Continues `state` up to `configuration.iterations`, or until early stopping ends it (at
    /// once when `state`'s log already meets the stopping condition).
    public func train(from state: TrainerState<Base>, onEvent: (TrainingEvent) -> Void = { _ in }) throws -> TrainerState<Base> {
        try validate()
        var state = state
        state.stopReason = stopReason(state.log)
        guard state.stopReason == nil else { return state }
        let total = configuration.iterations
        let sessionStart = DispatchTime.now().uptimeNanoseconds
        let firstIteration = state.nextIteration
        while state.nextIteration < total {
            let iteration = state.nextIteration
            let clock = DispatchTime.now().uptimeNanoseconds
            var record = try step(&state, iteration: iteration, onEvent: onEvent)
            state.elapsed += seconds(since: clock)
            record.wallTime = state.elapsed
            state.log.append(record)
            state.nextIteration += 1

            let done = state.nextIteration - firstIteration
            let rate = Double(done) / max(seconds(since: sessionStart), 1e-9)
            onEvent(.iteration(record, of: total, rate: rate, remaining: Double(total - state.nextIteration) / rate))

            state.stopReason = stopReason(state.log)
            if let reason = state.stopReason { onEvent(.stoppedEarly(reason)) }
            let stopping = shouldStop() || state.stopReason != nil
            if state.nextIteration % configuration.checkpointInterval == 0 || state.nextIteration == total || state.stopReason != nil {
                try checkpoint(&state, onEvent: onEvent)
            } else if stopping {
                try saveInterrupted(state, onEvent: onEvent)
            }
            if stopping { break }
        }
        return state
    }

    /// The configuration's checks, and a parameter scale of θ's length.
    private func validate() throws(TrainingError) {
        try configuration.validate()
        if let scale = configuration.parameterScale, scale.count != problem.parameterNames.count {
            throw .invalidOption(
                name: "parameterScale", value: "\(scale.count) entries", reason: "\(problem.name) trains \(problem.parameterNames.count) parameters")
        }
    }

    /// Why the run with this log stops early, if it does.
    private func stopReason(_ log: [TrainingRecord]) -> EarlyStopping.Reason? {
        configuration.earlyStopping?.reason(toStop: log, higherIsBetter: problem.testMetric?.higherIsBetter ?? false)
    }

    /// The scheduled learning rate of `iteration` after `rollbacks` rollbacks.
    private func learningRate(at iteration: Int, rollbacks: Int) -> Double {
        configuration.learningRateSchedule.learningRate(at: iteration, initial: optimizer.learningRate)
            * pow(configuration.learningRateFactor, Double(rollbacks))
    }

    /// The checkpoint file of a run stopped between checkpoint iterations. The rollback point and
    /// the best checkpoint stay as they are, so that the resumed run continues exactly as the
    /// uninterrupted one would have.
    private func saveInterrupted(_ state: TrainerState<Base>, onEvent: (TrainingEvent) -> Void) throws {
        guard let checkpoints else { return }
        let path = try checkpoints.save(
            state, iteration: state.nextIteration, keeping: Set(state.bestCheckpoint.map { [$0.iteration] } ?? []))
        onEvent(.checkpointSaved(path: path, iteration: state.nextIteration))
    }

    /// One iteration: evaluation, gradient, guarded update, and the fault handling around them.
    private func step(_ state: inout TrainerState<Base>, iteration: Int, onEvent: (TrainingEvent) -> Void) throws -> TrainingRecord {
        state.optimizer.base.learningRate = learningRate(at: iteration, rollbacks: state.rollbacks)
        var record = TrainingRecord(
            iteration: iteration, wallTime: 0, loss: .nan, testMetric: nil, gradientNorm: .nan,
            learningRate: state.optimizer.base.learningRate, bytesStored: 0, peakBytes: nil, event: nil)
        var notes: [String] = []
        if problem.testMetric != nil, iteration % configuration.evaluationInterval == 0 || iteration == configuration.iterations - 1 {
            do {
                record.testMetric = try problem.evaluateTestMetric(at: state.parameters, seed: configuration.seed)
            } catch {
                notes.append("test evaluation failed: \(error)")
            }
        }
        var failure: String?
        do {
            let task = try problem.task(iteration: iteration, seed: configuration.seed)
            let (estimate, peak) = try PeakMemory.measure { try gradient(of: task, at: state.parameters, iteration: iteration) }
            record.loss = estimate.loss
            record.gradientNorm = euclideanNorm(estimate.gradient)
            record.bytesStored = estimate.report.bytesStored
            record.peakBytes = peak
            if !estimate.loss.isFinite {
                failure = "the loss is not finite (\(estimate.loss))"
            } else if estimate.gradient.count != state.parameters.count {
                throw ODEError.dimensionMismatch(what: "gradient of \(problem.name)", expected: state.parameters.count, actual: estimate.gradient.count)
            } else if configuration.earlyStopping?.target?.isReached(by: record) == true {
                notes.append("target reached: θ kept")
                record.outcome = .keptAtTarget
            } else if case let .skippedNonFinite(index) = update(&state, gradient: estimate.gradient, entries: estimate.updatedEntries) {
                failure = "gradient entry \(problem.parameterNames[index]) is \(estimate.gradient[index])"
            }
        } catch let error as TrainingError {
            switch error {
            case .nonFiniteLoss, .tooManyFailedSamples, .backsolveDiverged, .failedOnRank: failure = error.description
            case .invalidOption, .unsupported, .eventsUnsupported: throw error
            }
        } catch let error as ODEError {
            failure = "the simulation failed: \(error)"
        }

        if let failure {
            notes.append("skipped: \(failure)")
            record.outcome = .skipped
            state.consecutiveFailures += 1
            onEvent(.skipped(iteration: iteration, reason: failure))
            if state.consecutiveFailures >= configuration.failuresBeforeRollback {
                guard state.rollbacks < configuration.maximumRollbacks else {
                    throw TrainerError.diverged(iteration: iteration, rollbacks: state.rollbacks, lastFailure: failure)
                }
                state.parameters = state.lastGood.parameters
                state.optimizer = state.lastGood.optimizer
                state.rollbacks += 1
                let rate = learningRate(at: iteration + 1, rollbacks: state.rollbacks)
                state.optimizer.base.learningRate = rate
                state.consecutiveFailures = 0
                record.outcome = .rolledBack
                notes.append("rolled back to iteration \(state.lastGood.iteration), learning rate \(rate)")
                onEvent(.rolledBack(iteration: iteration, restoredIteration: state.lastGood.iteration, learningRate: rate))
            }
        } else {
            state.consecutiveFailures = 0
        }
        record.event = notes.isEmpty ? nil : notes.joined(separator: "; ")
        return record
    }

    /// The method's loss and gradient at θ; with a parameter scale s, the gradient in u = θ / s
    /// (s ∘ ∇θL), a ``ForwardOnlyMethod`` perturbing u itself.
    private func gradient<System, Stepper, Loss>(
        of task: TrainingTask<System, Stepper, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        guard let scale = configuration.parameterScale else { return try method.estimate(task, at: theta, iteration: iteration) }
        if let forwardOnly = method as? any ForwardOnlyMethod {
            let rescaled = RescaledObjective(base: task, scale: scale)
            return try forwardOnly.forwardOnlyEstimate(of: rescaled, at: zip(theta, scale).map(/), iteration: iteration)
        }
        var estimate = try method.estimate(task, at: theta, iteration: iteration)
        estimate.gradient = zip(estimate.gradient, scale).map(*)
        return estimate
    }

    /// One guarded optimizer step. With a parameter scale s the optimizer works on u = θ / s (the
    /// gradient is already in u), and only the updated entries of θ are rewritten (as s ∘ u), so
    /// the others keep their bits.
    private func update(_ state: inout TrainerState<Base>, gradient: [Double], entries: [Range<Int>]?) -> SafeguardedOptimizer<Base>.Outcome {
        guard let scale = configuration.parameterScale else {
            return state.optimizer.step(&state.parameters, gradient: gradient, entries: entries)
        }
        var u = zip(state.parameters, scale).map(/)
        let outcome = state.optimizer.step(&u, gradient: gradient, entries: entries)
        if case .applied = outcome {
            for range in entries ?? [u.indices] {
                for i in range { state.parameters[i] = u[i] * scale[i] }
            }
        }
        return outcome
    }

    /// Takes the rollback point and writes the checkpoint file (keeping the best one).
    private func checkpoint(_ state: inout TrainerState<Base>, onEvent: (TrainingEvent) -> Void) throws {
        if state.consecutiveFailures == 0 {
            state.lastGood = .init(iteration: state.nextIteration, parameters: state.parameters, optimizer: state.optimizer)
        }
        guard let checkpoints else { return }
        if let score = score(of: state), state.bestCheckpoint.map({ score < $0.score }) ?? true {
            state.bestCheckpoint = (state.nextIteration, score)
        }
        let path = try checkpoints.save(
            state, iteration: state.nextIteration, keeping: Set(state.bestCheckpoint.map { [$0.iteration] } ?? []))
        onEvent(.checkpointSaved(path: path, iteration: state.nextIteration))
    }

    /// How good the state at a checkpoint is, lower better: the latest held-out metric if the
    /// problem has one, else the mean finite training loss since the previous checkpoint.
    private func score(of state: TrainerState<Base>) -> Double? {
        if let metric = problem.testMetric, let value = state.log.last(where: { $0.testMetric != nil })?.testMetric, value.isFinite {
            return metric.higherIsBetter ? -value : value
        }
        let recent = state.log.suffix(configuration.checkpointInterval).map(\.loss).filter(\.isFinite)
        return recent.isEmpty ? nil : recent.reduce(0, +) / Double(recent.count)
    }

    private func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }
}

/// The part of a checkpoint that says which run wrote it.
private struct CheckpointHeader: Decodable {
    var identity: TrainingRunIdentity
}
