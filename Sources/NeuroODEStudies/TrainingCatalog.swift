import Foundation
import Gradients
import NeuroODE

/// The training problems `compare` and `train` know, by command-line name.
///
/// Adding a problem is one ``TrainingEntry``: its name, a summary, the problem options it reads,
/// and a factory that builds the library's ``TrainingProblem`` (small or `--paper` size, with the
/// options applied) and wraps it in a ``TrainingRunner``.
public enum TrainingCatalog {
    /// The built-in entries; ``StudyRegistry`` starts from these.
    public static let builtIn: [TrainingEntry] = [
        TrainingEntry(
            name: "turn-off",
            summary: "learn I of one Morris–Lecar neuron (hopf) from 100 until it stops firing; target loss < 1e-3",
            options: [.horizon, .precision],
            make: { options, paper in
                var configuration = paper ? TurnOffTraining.Configuration.paper : .small
                configuration.precision = options.precision ?? configuration.precision
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
            options: [.neurons, .batch, .testTrials, .tokenDuration, .loss, .preset, .setup, .precision],
            make: { options, paper in
                var configuration = paper ? EvidenceTask.Configuration.paper : .small
                switch options.setup {
                case nil, "paper": break  // `--setup paper` arrives as `paper` (TrainingOptions.usesPaperSize)
                case "authors":
                    if paper { throw CommandLineError.inapplicable(option: "--paper", reason: "--setup authors already names the size and timing") }
                    configuration = .authors
                case let name?: throw CommandLineError.unknownName(kind: "setup", name: name, choices: ["paper", "authors"])
                }
                configuration.precision = options.precision ?? configuration.precision
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
        TrainingEntry(
            name: "lif-timing",
            summary: "LIF layer (3 neurons; --paper 10) driven by fixed input spike trains through learnable weights must fire at a teacher's spike times (2 per neuron); dopri5 or --integrator leapfrog (--dt, default 0.01 ms), resets differentiated; target loss < 0.25 ms²",
            options: [.integrator, .dt],
            make: { options, paper in
                let configuration: LIFTimingConfiguration = paper ? .paper : .small
                switch options.integrator ?? "dopri5" {
                case "dopri5":
                    if options.dt != nil { throw CommandLineError.inapplicable(option: "--dt", reason: "dopri5 chooses its own steps") }
                    return TrainingRunner(try LIFTimingTraining(configuration: configuration))
                case "leapfrog":
                    let dt = options.dt ?? 0.01
                    guard dt.isFinite, dt > 0 else {
                        throw CommandLineError.invalidValue(option: "--dt", value: "\(dt)", reason: "the leapfrog's step must be finite and positive")
                    }
                    return TrainingRunner(try LIFTimingTraining(configuration: configuration, leapfrogStep: dt))
                case let name:
                    throw CommandLineError.unknownName(kind: "integrator", name: name, choices: ["dopri5", "leapfrog"])
                }
            }),
        TrainingEntry(
            name: "oja",
            summary: "rediscover Oja's rule: learn the 27 coefficients of a plastic linear neuron's rule so its weights end at the unit PC1 of its inputs; target oja_distance < 0.3",
            options: [.inputs],
            make: { options, paper in
                var configuration = paper ? OjaTraining.Configuration.paper : .small
                configuration.inputs = try options.positive(options.inputs, "--inputs") ?? configuration.inputs
                guard configuration.inputs >= 2 else {
                    throw CommandLineError.invalidValue(option: "--inputs", value: "\(configuration.inputs)", reason: "the Oja task needs at least 2 inputs")
                }
                let problem = try OjaTraining(configuration: configuration)
                return TrainingRunner(problem, analysis: { results, seed, directory in
                    try OjaReport(problem: problem, results: results, seed: seed).write(to: directory)
                })
            }),
        TrainingEntry(
            name: "istdp",
            summary: "rediscover inhibitory STDP: learn (alpha, beta, kappa, gamma) of a conductance LIF's inhibitory plasticity so it fires at 5 Hz with inhibition tracking excitation per input group (--horizon T ms, scored over the last T/3); target heldout_loss < 0.1",
            options: [.horizon],
            make: { options, paper in
                var configuration = paper ? ISTDPTraining.Configuration.paper : .small
                if let horizon = options.horizon {
                    guard horizon.isFinite, horizon >= 30 else {
                        throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "the inner run (ms) must be finite and at least 30 ms")
                    }
                    (configuration.duration, configuration.window) = (horizon, horizon / 3)
                }
                let problem = try ISTDPTraining(configuration: configuration)
                return TrainingRunner(problem, analysis: { results, seed, directory in
                    let report = problem.report(results.flatMap { result in result.finalParameters.enumerated().compactMap { run, rule in rule.map { (result.name, run, $0) } } }, seed: seed)
                    let chart = LineChart(title: "istdp: Δw/η for one pre–post pair", xLabel: "Δt = t_post − t_pre (ms)", yLabel: "Δw/η", series: report.windows.curves.map { LineChart.Series(label: $0.label, x: report.windows.delays, y: $0.values) })
                    let files = (report.files + [("learning-window.svg", chart.svg())]).map { ((directory as NSString).appendingPathComponent($0.0), $0.1) }
                    for (path, text) in files { try OutputFile.write(text, to: path) }
                    return (files.map(\.0), report.text)
                })
            }),
    ]

    /// Every entry, the built-in ones first, then those registered (``StudyRegistry``).
    public static var entries: [TrainingEntry] { StudyRegistry.shared.trainingProblems }

    public static var names: [String] { entries.map(\.name) }

    public static func entry(named name: String) throws(CommandLineError) -> TrainingEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw .unknownName(kind: "task", name: name, choices: names)
        }
        return entry
    }
}

/// One problem in the catalog.
public struct TrainingEntry: Sendable {
    public let name: String
    public let summary: String
    /// The problem options it reads; the commands reject the others.
    public let options: Set<ProblemOption>
    public let make: @Sendable (ProblemSettings, _ paper: Bool) throws -> TrainingRunner

    /// Sets every stored property.
    public init(name: String, summary: String, options: Set<ProblemOption>, make: @escaping @Sendable (ProblemSettings, _ paper: Bool) throws -> TrainingRunner) {
        self.name = name
        self.summary = summary
        self.options = options
        self.make = make
    }
}

/// Options that shape a problem rather than the training loop.
public enum ProblemOption: String, CaseIterable, Sendable {
    case horizon, hidden, neurons, batch
    case testTrials = "test-trials"
    case tokenDuration = "token-ms"
    case loss
    case unscaled
    /// N, the plastic neuron's inputs (oja).
    case inputs
    /// The network's Morris–Lecar preset (evidence: snic for case A, snic-explosive for case B).
    case preset
    /// The forward pass's arithmetic (turn-off, evidence): f32 for ES only.
    case precision
    /// A named size and timing (evidence: paper, authors).
    case setup
    /// The student's forward integrator and the leapfrog's step (lif-timing).
    case integrator, dt
}

/// A problem with its concrete type erased behind one closure, so the commands treat every
/// problem alike while the trainer runs specialised on it.
public struct TrainingRunner {
    public let name: String
    public let parameterCount: Int
    /// θ's named groups (empty when the names form none), for `--es-groups` and `--train-groups`.
    public let parameterGroups: [ParameterGroup]
    public let target: TrainingTarget
    public let testMetric: TestMetric?
    public let defaults: TrainingDefaults
    /// Whether the forward pass is CVODE, so that the partial adjoint runs through CVODES.
    public let integratesWithCVODE: Bool
    /// The problem's configuration as JSON, for result files.
    public let configurationJSON: String
    /// The problem's configuration, for result documents.
    public let configuration: any Encodable
    /// Names of θ's entries.
    public let parameterNames: [String]
    /// Problem-specific results written after `compare` (nil: none).
    public let analysis: ProblemAnalysis?
    private let trainer: (TrainingSession, (TrainingEvent) -> Void) throws -> (log: [TrainingRecord], parameters: [Double])
    private let evolver: (CMAES, TrainerConfiguration, CheckpointStore?, Bool, (TrainingEvent) -> Void) throws -> CMAESRun

    public init<Problem: TrainingProblem>(_ problem: Problem, analysis: ProblemAnalysis? = nil) {
        name = problem.name
        parameterCount = problem.parameterNames.count
        parameterGroups = (try? problem.parameterGroups()) ?? []
        target = problem.target
        testMetric = problem.testMetric
        defaults = problem.defaults
        integratesWithCVODE = Problem.Stepper.self == CVODE.self
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        configuration = problem.configuration
        configurationJSON = (try? encoder.encode(problem.configuration)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        parameterNames = problem.parameterNames
        self.analysis = analysis
        trainer = { session, onEvent in
            var trainer = Trainer(
                problem: problem, method: session.method, methodSettings: session.methodSettings,
                optimizer: session.optimizer, configuration: session.configuration, checkpoints: session.checkpoints)
            trainer.shouldStop = { Interruption.requested }
            let state = try trainer.run(resume: session.resume, onEvent: onEvent)
            return (state.log, state.parameters)
        }
        evolver = { cmaes, configuration, checkpoints, resume, onEvent in
            var trainer = CMAESTrainer(problem: problem, cmaes: cmaes, configuration: configuration, checkpoints: checkpoints)
            trainer.shouldStop = { Interruption.requested }
            return try trainer.run(resume: resume, onEvent: onEvent)
        }
    }

    public func train(_ session: TrainingSession, onEvent: (TrainingEvent) -> Void) throws -> [TrainingRecord] {
        try trainer(session, onEvent).log
    }

    /// The log and the final θ of a gradient-method run.
    public func trainReturningParameters(_ session: TrainingSession, onEvent: (TrainingEvent) -> Void) throws -> (log: [TrainingRecord], parameters: [Double]) {
        try trainer(session, onEvent)
    }

    /// A CMA-ES run (one generation per iteration) on the problem, checkpointed into `checkpoints` when given.
    public func evolve(
        _ cmaes: CMAES, configuration: TrainerConfiguration, checkpoints: CheckpointStore? = nil, resume: Bool = false,
        onEvent: (TrainingEvent) -> Void
    ) throws -> CMAESRun {
        try evolver(cmaes, configuration, checkpoints, resume, onEvent)
    }
}

/// Files and a text block a problem adds to `compare`'s output from every method's final θ
/// (the Oja task: distances to Oja's rule and the meta-loss landscape).
public typealias ProblemAnalysis = @Sendable (_ results: [MethodResult], _ seed: UInt64, _ directory: String) throws -> (files: [String], text: String)

/// One training run's method, optimizer and loop settings.
public struct TrainingSession {
    public var method: any GradientMethod
    public var methodSettings: String
    public var optimizer: OptimizerChoice
    public var configuration: TrainerConfiguration
    public var checkpoints: CheckpointStore?
    public var resume = false

    public init(
        method: any GradientMethod, methodSettings: String, optimizer: OptimizerChoice, configuration: TrainerConfiguration,
        checkpoints: CheckpointStore? = nil, resume: Bool = false
    ) {
        self.method = method
        self.methodSettings = methodSettings
        self.optimizer = optimizer
        self.configuration = configuration
        self.checkpoints = checkpoints
        self.resume = resume
    }
}
