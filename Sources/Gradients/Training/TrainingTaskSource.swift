import Foundation
import NeuroODE

/// What ``Trainer`` and ``CMAESTrainer`` train: a family of ``TrainingTask``s indexed by iteration,
/// with θ's initialization and, optionally, a held-out metric.
///
/// Stochastic sources resample their minibatch from (seed, iteration), so any iteration's task can
/// be rebuilt on its own and a resumed run sees exactly the data an uninterrupted one would. θ is
/// the trained vector of those tasks (trained system parameters, then loss parameters); every
/// iteration's task shares its layout, so θ carries over from one minibatch to the next.
///
/// A single ``TrainingTask`` is a source (the same task every iteration, θ starting at the task's
/// own parameter values), which is how a custom model is fitted (README "Your own model").
/// Benchmark problems add their configuration, target and defaults (``TrainingProblem``).
public protocol TrainingTaskSource: Sendable {
    associatedtype System: ODESystem
    associatedtype Stepper: Integrator
    associatedtype Loss: TaskLoss

    /// Name used in messages, checkpoints and result files.
    var name: String { get }
    /// Names of θ's entries.
    var parameterNames: [String] { get }
    /// θ at its seeded initialization.
    func initialParameters(seed: UInt64) throws -> [Double]
    /// The task of one iteration (its minibatch drawn from `seed` and `iteration`).
    func task(iteration: Int, seed: UInt64) throws -> TrainingTask<System, Stepper, Loss>
    /// The held-out metric, if the source has one (nil: the training loss is the only measure).
    var testMetric: TestMetric? { get }
    /// The held-out metric at θ. Only called when ``testMetric`` is non-nil.
    func evaluateTestMetric(at theta: [Double], seed: UInt64) throws -> Double
    /// The settings that shape the tasks, as text. Part of a run's identity: a checkpoint is only
    /// resumed by a run whose source describes itself the same way.
    func settingsDescription() throws -> String
}

extension TrainingTaskSource {
    /// Default: no held-out metric.
    public var testMetric: TestMetric? { nil }
    /// Default: throws `TrainingError.unsupported`, as there is no held-out metric.
    public func evaluateTestMetric(at theta: [Double], seed: UInt64) throws -> Double {
        throw TrainingError.unsupported("\(name) has no held-out metric")
    }
}

extension TrainingTask: TrainingTaskSource {
    /// The values of the trained system parameters in ``systemParameters`` (the seed plays no
    /// part). A task whose loss has parameters of its own (a readout) has no initial value for
    /// them and is refused: give it a ``TrainingTaskSource`` whose initialization draws them.
    public func initialParameters(seed: UInt64) throws -> [Double] {
        guard loss.parameterNames.isEmpty else {
            throw TrainingError.unsupported(
                "\(name) trains \(loss.parameterNames.count) loss parameters (\(loss.parameterNames.prefix(3).joined(separator: ", "))…) "
                    + "that have no initial value: train it through a TrainingTaskSource whose initialParameters(seed:) sets them")
        }
        return trainedParameters.map { systemParameters[$0] }
    }

    /// This task, whatever the iteration and seed.
    public func task(iteration: Int, seed: UInt64) throws -> TrainingTask<System, Method, Loss> { self }

    /// The model, the integrator, y₀, the full parameter vector, the span, the trained names and
    /// the observation times, as JSON with sorted keys.
    public func settingsDescription() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let settings = TaskSettings(
            task: name, model: system.name, integrator: integrator.name, initialState: initialState,
            systemParameters: systemParameters, timeSpan: [timeSpan.start, timeSpan.end],
            observationTimes: loss.observationTimes, trained: parameterNames)
        return String(decoding: try encoder.encode(settings), as: UTF8.self)
    }
}

/// What ``TrainingTask/settingsDescription()`` encodes.
private struct TaskSettings: Encodable {
    var task, model, integrator: String
    var initialState, systemParameters, timeSpan, observationTimes: [Double]
    var trained: [String]
}
