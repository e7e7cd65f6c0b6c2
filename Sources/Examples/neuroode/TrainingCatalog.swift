import Foundation
import Gradients
import NeuroODE

/// The training problems `compare` and `train` know, by command-line name.
///
/// Adding a problem is one ``TrainingEntry``: its name, a summary, the problem options it reads,
/// and a factory that builds the library's ``TrainingProblem`` (small or `--paper` size, with the
/// options applied) and wraps it in a ``TrainingRunner``.
enum TrainingCatalog {
    static let entries: [TrainingEntry] = [
        TrainingEntry(
            name: "turn-off",
            summary: "learn I of one Morris–Lecar neuron (hopf) from 100 until it stops firing; target loss < 1e-3",
            options: [.horizon],
            make: { options, paper in
                var configuration = paper ? TurnOffTraining.Configuration.paper : .small
                if let horizon = options.horizon {
                    guard horizon.isFinite, horizon > 0 else {
                        throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "the horizon (ms) must be finite and positive")
                    }
                    configuration.horizon = horizon
                }
                return TrainingRunner(try TurnOffTraining(configuration: configuration))
            }),
        TrainingEntry(
            name: "evidence",
            summary: "recurrent Morris–Lecar network (snic; --preset snic-explosive for case B) integrating evidence tokens; trains W_in, W_rec, W_out, b; target test accuracy ≥ 0.95",
            options: [.neurons, .batch, .testTrials, .tokenDuration, .loss, .preset],
            make: { options, paper in
                var configuration = paper ? EvidenceTask.Configuration.paper : .small
                configuration.neurons = try options.positive(options.neurons, "--neurons") ?? configuration.neurons
                configuration.batchSize = try options.positive(options.batch, "--batch") ?? configuration.batchSize
                configuration.testTrials = try options.positive(options.testTrials, "--test-trials") ?? configuration.testTrials
                if let duration = options.tokenDuration {
                    guard duration.isFinite, duration > 0.2 else {
                        throw CommandLineError.invalidValue(option: "--token-ms", value: "\(duration)", reason: "the 50 tokens must outlast the 10 ms readout window (> 0.2 ms each)")
                    }
                    configuration.tokenDuration = duration
                }
                if let loss = options.loss {
                    let names = ["ce": "cross-entropy", "cross-entropy": "cross-entropy", "l2": "l2"]
                    guard let objective = names[loss] else {
                        throw CommandLineError.unknownName(kind: "loss", name: loss, choices: ["ce", "l2"])
                    }
                    configuration.objective = objective
                }
                if let name = options.preset {
                    guard let preset = MorrisLecar.Preset(rawValue: name) else {
                        throw CommandLineError.unknownName(kind: "preset", name: name, choices: MorrisLecar.Preset.allCases.map(\.rawValue))
                    }
                    configuration.neuronPreset = preset
                }
                return TrainingRunner(try EvidenceTask(configuration: configuration))
            }),
        TrainingEntry(
            name: "spiral",
            summary: "neural ODE dy/dt = MLP(y³), 2 → H → 2, on minibatches of the cubic spiral; target test MAE < 0.04",
            options: [.hidden],
            make: { options, paper in
                var configuration = paper ? SpiralTraining.Configuration.paper : .small
                configuration.hidden = try options.positive(options.hidden, "--hidden") ?? configuration.hidden
                return TrainingRunner(try SpiralTraining(configuration: configuration))
            }),
        TrainingEntry(
            name: "rober-fit",
            summary: "stiff neural ODE 3 → (5, GELU)×6 → 3 fitted to ROBER at 50 log-spaced times, CVODE BDF, output scaling on (--unscaled: off); target MAE < 0.05",
            options: [.unscaled],
            make: { options, paper in
                var configuration = paper ? RoberFitTraining.Configuration.paper : .small
                configuration.scaled = !options.unscaled
                return TrainingRunner(try RoberFitTraining(configuration: configuration))
            }),
    ]

    static var names: [String] { entries.map(\.name) }

    static func entry(named name: String) throws(CommandLineError) -> TrainingEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw .unknownName(kind: "task", name: name, choices: names)
        }
        return entry
    }
}

/// One problem in the catalog.
struct TrainingEntry: Sendable {
    let name: String
    let summary: String
    /// The problem options it reads; the commands reject the others.
    let options: Set<ProblemOption>
    let make: @Sendable (TrainingOptions, _ paper: Bool) throws -> TrainingRunner
}

/// Options that shape a problem rather than the training loop.
enum ProblemOption: String, CaseIterable, Sendable {
    case horizon, hidden, neurons, batch
    case testTrials = "test-trials"
    case tokenDuration = "token-ms"
    case loss
    case unscaled
    /// The network's Morris–Lecar preset (evidence: snic for case A, snic-explosive for case B).
    case preset
}

/// A problem with its concrete type erased behind one closure, so the commands treat every
/// problem alike while the trainer runs specialised on it.
struct TrainingRunner {
    let name: String
    let parameterCount: Int
    let target: TrainingTarget
    let testMetric: TestMetric?
    let defaults: TrainingDefaults
    /// Whether the forward pass is CVODE, so that the partial adjoint runs through CVODES.
    let integratesWithCVODE: Bool
    /// The problem's configuration as JSON, for result files.
    let configurationJSON: String
    private let trainer: (TrainingSession, (TrainingEvent) -> Void) throws -> [TrainingRecord]

    init<Problem: TrainingProblem>(_ problem: Problem) {
        name = problem.name
        parameterCount = problem.parameterNames.count
        target = problem.target
        testMetric = problem.testMetric
        defaults = problem.defaults
        integratesWithCVODE = Problem.Stepper.self == CVODE.self
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        configurationJSON = (try? encoder.encode(problem.configuration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        trainer = { session, onEvent in
            var trainer = Trainer(
                problem: problem, method: session.method, methodSettings: session.methodSettings,
                optimizer: session.optimizer, configuration: session.configuration, checkpoints: session.checkpoints)
            trainer.shouldStop = { Interruption.requested }
            return try trainer.run(resume: session.resume, onEvent: onEvent).log
        }
    }

    func train(_ session: TrainingSession, onEvent: (TrainingEvent) -> Void) throws -> [TrainingRecord] {
        try trainer(session, onEvent)
    }
}

/// One training run's method, optimizer and loop settings.
struct TrainingSession {
    var method: any GradientMethod
    var methodSettings: String
    var optimizer: OptimizerChoice
    var configuration: TrainerConfiguration
    var checkpoints: CheckpointStore?
    var resume = false
}
