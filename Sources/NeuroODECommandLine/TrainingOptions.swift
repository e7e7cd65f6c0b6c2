import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// The options `compare` and `train` share: the training loop's, the optimizer's, ES's and each
/// problem's. Every one may also come from `--config FILE.json` under its long name without the
/// dashes; a flag on the command line wins over the file.
struct TrainingOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Iterations (default: the problem's; turn-off 100, evidence 100, spiral 1000, rober-fit 2000, oja 150; --paper 200, 500, 2000, 5000, 400).")
    var iterations: Int?

    @Option(help: "Seed of the initialization, the minibatches and the ES noise; run r uses seed + r (default 0).")
    var seed: UInt64?

    @Flag(help: "Use the paper's configuration instead of the small default.")
    var paper = false

    @Option(help: ArgumentHelp("Optimizer: adam, adamw, sgd, rmsprop (default: the problem's; adamw for rober-fit, else adam).", valueName: "name"))
    var optimizer: String?

    @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Learning rate (default: the problem's; turn-off 0.1, evidence 5e-3, spiral 1e-3, rober-fit 5e-3, oja 0.05).")
    var learningRate: Double?

    @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "AdamW's decoupled weight decay (adamw; default: the problem's, rober-fit 1e-6, else 1e-2).")
    var weightDecay: Double?

    @Option(parsing: .unconditional, help: "Clip gradients longer than this norm; 0 turns clipping off (default: 10 for bptt and the adjoints, none for es, hybrid, readout and fd).")
    var clip: Double?

    @Option(parsing: .unconditional, help: "ES samples per iteration (default: the problem's).")
    var samples: Int?

    @Option(parsing: .unconditional, help: "ES perturbation scale σ, and CMA-ES's initial step size σ₀ (default: turn-off 1.0, evidence 0.1, spiral 0.01, rober-fit 0.01, oja 0.1).")
    var sigma: Double?

    @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Evaluate the held-out metric every K iterations (default: the problem's).")
    var evaluationInterval: Int?

    @Option(parsing: .unconditional, help: "Horizon in ms (turn-off; default 3000).")
    var horizon: Double?

    @Option(parsing: .unconditional, help: "Hidden width H (spiral; default 50, 1000 for the paper's second case).")
    var hidden: Int?

    @Option(parsing: .unconditional, help: "Network size N (evidence; default 32, --paper 128).")
    var neurons: Int?

    @Option(parsing: .unconditional, help: "Trials per minibatch (evidence; default 16, --paper 64).")
    var batch: Int?

    @Option(name: .customLong("test-trials"), parsing: .unconditional, help: "Held-out trials (evidence; default 64, --paper 512).")
    var testTrials: Int?

    @Option(name: .customLong("token-ms"), parsing: .unconditional, help: "How long each token is held, ms (evidence; default 6, case C 20).")
    var tokenDuration: Double?

    @Option(help: ArgumentHelp("Loss: ce (cross-entropy, default) or l2 (to the one-hot label, as the paper states) (evidence).", valueName: "name"))
    var loss: String?

    @Option(parsing: .unconditional, help: "Inputs N of the plastic neuron (oja; default 5, --paper 39).")
    var inputs: Int?

    @Flag(help: "Turn the output scaling off: dy/dt = NN(y) instead of NN(y) ⊙ yscale / 1e5 (rober-fit).")
    var unscaled = false

    @Option(help: ArgumentHelp(
        "Neuron preset of the network: snic (cases A and C, default) or snic-explosive (case B, φ × 2); also hopf, explosive (evidence).",
        valueName: "name"))
    var preset: String?

    @Option(help: ArgumentHelp(
        "Arithmetic of the forward pass: f64 (default) or f32, which only the forward-only methods es, hybrid and readout accept (turn-off, evidence).", valueName: "f32|f64"))
    var precision: Precision?

    @Option(help: ArgumentHelp(
        "Named size and timing (evidence): paper (= --paper: 128 neurons, 6 ms tokens, batch 64) or authors (the authors' code: 4 ms tokens, batch 50).",
        valueName: "name"))
    var setup: String?

    @Option(help: ArgumentHelp("ES sampling: mirrored (the paper's, default) or plain (one unperturbed sample, the authors' code) (es, hybrid).", valueName: "name"))
    var variant: String?

    @Flag(help: "Centred-rank fitness shaping of the ES losses (es, hybrid).")
    var ranks = false

    @Option(name: .customLong("es-groups"), help: ArgumentHelp(
        "Parameter groups ES perturbs, in the --alternate cycle's order (es: default every trained group; hybrid: default every group but the readout's; evidence: W_in, W_rec, W_out, b_out).",
        valueName: "list"))
    var esGroups: String?

    @Option(name: .customLong("train-groups"), help: ArgumentHelp(
        "Parameter groups trained at all (default every group the method reaches); the others are frozen. A perturbed group left out keeps its turn in the --alternate cycle.",
        valueName: "list"))
    var trainGroups: String?

    @Flag(help: "Perturb and update one --es-groups group per iteration, cycling in the listed order (es, hybrid).")
    var alternate = false

    @OptionGroup var configOption: ConfigOption

    @OptionGroup var resources: ResourceOptions

    /// The problem, after rejecting problem options it does not read and sizes that would not fit
    /// in memory when trained with `methods` for `runs` runs.
    func problem(_ entry: TrainingEntry, methods: [GradientMethodKind], runs: Int = 1) throws -> TrainingRunner {
        try problemSettings.rejectOptions(notReadBy: entry)
        try resources.applyThreads()
        try memoryEstimate(entry.name, methods: methods, runs: runs).check(against: try resources.memoryLimit())
        return try entry.make(problemSettings, usesPaperSize)
    }

    /// The problem's size options as memory (README "Resource limits"), at the problem's small or
    /// paper defaults.
    func memoryEstimate(_ problem: String, methods: [GradientMethodKind], runs: Int) -> MemoryEstimate {
        var estimate = MemoryEstimate()
        switch problem {
        case "evidence":
            let base = usesPaperSize ? EvidenceTask.Configuration.paper : .small
            let duration = tokenDuration ?? base.tokenDuration
            let steps = (50 * duration + EvidenceTask.readoutWindow) / base.stepSize
            RunEstimate.network(&estimate, neurons: neurons ?? base.neurons, batch: batch ?? base.batchSize, steps: steps, kinds: methods)
            let trials = testTrials ?? base.testTrials
            estimate.add("the held-out trials' states", option: "--test-trials", value: trials,
                         doubles: 40 * 2 * Double(neurons ?? base.neurons) * Double(trials))
        case "spiral":
            let base = usesPaperSize ? SpiralTraining.Configuration.paper : .small
            RunEstimate.spiral(&estimate, hidden: hidden ?? base.hidden, windows: base.windows, windowLength: base.windowLength)
        case "turn-off":
            let base = usesPaperSize ? TurnOffTraining.Configuration.paper : .small
            RunEstimate.turnOff(&estimate, horizon: horizon ?? base.horizon, stepSize: base.stepSize, kinds: methods)
        default:
            break
        }
        RunEstimate.samples(&estimate, samples)
        RunEstimate.log(&estimate, iterations: iterations, runs: runs * methods.count)
        return estimate
    }

    /// `--paper`, or `--setup paper`.
    var usesPaperSize: Bool { paper || setup == "paper" }

    /// The problem-shaping options as the library's value.
    var problemSettings: ProblemSettings {
        var settings = ProblemSettings()
        settings.horizon = horizon
        settings.hidden = hidden
        settings.neurons = neurons
        settings.batch = batch
        settings.testTrials = testTrials
        settings.tokenDuration = tokenDuration
        settings.loss = loss
        settings.unscaled = unscaled
        settings.preset = preset
        settings.setup = setup
        settings.precision = precision
        settings.inputs = inputs
        return settings
    }

    func positive(_ value: Int?, _ option: String) throws(CommandLineError) -> Int? {
        if let value, value < 1 { throw .invalidValue(option: option, value: "\(value)", reason: "must be at least 1") }
        return value
    }

    /// The optimizer, from the problem's default and the options.
    func optimizerChoice(_ runner: TrainingRunner) throws(CommandLineError) -> OptimizerChoice {
        let rate = learningRate ?? runner.defaults.optimizer.learningRate
        guard rate.isFinite, rate > 0 else {
            throw .invalidValue(option: "--learning-rate", value: "\(rate)", reason: "must be finite and positive")
        }
        if let weightDecay, !(weightDecay.isFinite && weightDecay >= 0) {
            throw .invalidValue(option: "--weight-decay", value: "\(weightDecay)", reason: "must be finite and not negative")
        }
        let name = optimizer ?? runner.defaults.optimizer.name
        switch name {
        case "adam":
            if weightDecay != nil { throw .inapplicable(option: "--weight-decay", reason: "adam has no weight decay; use --optimizer adamw") }
            return .adam(Adam(learningRate: rate))
        case "adamw":
            // The problem's decay when its default is AdamW (rober-fit: 1e-6), else PyTorch's 1e-2.
            var decay = 1e-2
            if case let .adam(base) = runner.defaults.optimizer, base.weightDecay > 0 { decay = base.weightDecay }
            return .adam(.adamW(learningRate: rate, weightDecay: weightDecay ?? decay))
        case "sgd", "rmsprop":
            if weightDecay != nil { throw .inapplicable(option: "--weight-decay", reason: "only adamw takes a weight decay") }
            return name == "sgd" ? .sgd(GradientDescent(learningRate: rate)) : .rmsprop(RMSprop(learningRate: rate))
        case let other:
            throw .unknownName(kind: "optimizer", name: other, choices: ["adam", "adamw", "sgd", "rmsprop"])
        }
    }

    /// A method's settings: ES's samples and σ from the options or the problem.
    func methodSettings(_ kind: GradientMethodKind, runner: TrainingRunner, seed: UInt64) throws -> GradientMethodSettings {
        if precision == .f32, ![.es, .hybrid, .readout].contains(kind) {
            throw CommandLineError.inapplicable(
                option: "--precision f32", reason: "\(kind.rawValue) differentiates the float64 forward pass; only es, hybrid and readout run in float32")
        }
        var settings = GradientMethodSettings(kind: kind)
        settings.samples = samples ?? runner.defaults.samples
        settings.sigma = sigma ?? runner.defaults.sigma
        settings.seed = seed
        settings.runsThroughCVODES = kind == .adjointPartial && runner.integratesWithCVODE
        if kind.isEvolutionStrategy {
            if let variant {
                guard let sampling = EvolutionStrategy.Sampling(rawValue: variant) else {
                    throw CommandLineError.unknownName(kind: "variant", name: variant, choices: EvolutionStrategy.Sampling.allCases.map(\.rawValue))
                }
                settings.sampling = sampling
            }
            settings.rankShaping = ranks
        }
        try groupOptions.apply(to: &settings, groups: runner.parameterGroups)
        if kind.isEvolutionStrategy { try settings.evolutionStrategy.validate() }
        return settings
    }

    /// `--es-groups`, `--train-groups`, `--alternate`.
    var groupOptions: GroupOptions {
        GroupOptions(perturbed: GroupOptions.list(esGroups), trained: GroupOptions.list(trainGroups), alternates: alternate)
    }

    /// Throws for the first ES option given when none of `kinds` reads it.
    /// `compare` passes `cmaesListed`: there CMA-ES reads `--sigma` as its initial step size too.
    func rejectMethodOptions(unusedBy kinds: [GradientMethodKind], cmaesListed: Bool? = nil) throws(CommandLineError) {
        let evolution = kinds.contains(where: \.isEvolutionStrategy)
        let owners: [(option: String, given: Bool, read: Bool, by: String)] = [
            ("--samples", samples != nil, evolution, "es and hybrid"),
            ("--sigma", sigma != nil, evolution || cmaesListed == true,
             cmaesListed == nil ? "es and hybrid" : "es, hybrid, cmaes and sep-cmaes"),
            ("--variant", variant != nil, evolution, "es and hybrid"), ("--ranks", ranks, evolution, "es and hybrid"),
            ("--es-groups", esGroups != nil, evolution, "es and hybrid"), ("--alternate", alternate, evolution, "es and hybrid"),
        ]
        if let stray = owners.first(where: { $0.given && !$0.read }) {
            throw .inapplicable(option: stray.option, reason: "it is an option of \(stray.by), not \(kinds.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The loop's settings for one method and run.
    func trainerConfiguration(_ kind: GradientMethodKind, runner: TrainingRunner, seed: UInt64) throws(CommandLineError) -> TrainerConfiguration {
        let count = iterations ?? runner.defaults.iterations
        guard count >= 1 else { throw .invalidValue(option: "--iterations", value: "\(count)", reason: "must be at least 1") }
        let every = evaluationInterval ?? runner.defaults.evaluationInterval
        guard every >= 1 else { throw .invalidValue(option: "--eval-every", value: "\(every)", reason: "must be at least 1") }
        if let clip, !(clip.isFinite && clip >= 0) {
            throw .invalidValue(option: "--clip", value: "\(clip)", reason: "must be finite and not negative (0: no clipping)")
        }
        // Clipping guards backpropagation through time; ES, its variants and the readout's
        // one-step gradient run unclipped unless --clip says otherwise.
        let backpropagates = kind == .bptt || kind == .bpttCheckpointed || kind.isAdjoint
        let limit = clip.map { $0 == 0 ? nil : $0 } ?? (backpropagates ? 10 : nil)
        return TrainerConfiguration(iterations: count, seed: seed, evaluationInterval: every, maxGradientNorm: limit)
    }
}
