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

    @Option(help: ArgumentHelp("Forward integrator of the student: dopri5 (default) or leapfrog (lif-timing).", valueName: "name"))
    var integrator: String?

    @Option(parsing: .unconditional, help: "The leapfrog's step in ms (lif-timing with --integrator leapfrog; default 0.01).")
    var dt: Double?

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

    /// The options as the library's value.
    var training: TrainingSettings {
        var settings = TrainingSettings()
        (settings.iterations, settings.seed, settings.paper, settings.optimizer) = (iterations, seed, paper, optimizer)
        (settings.learningRate, settings.weightDecay, settings.clip) = (learningRate, weightDecay, clip)
        (settings.samples, settings.sigma, settings.evaluationInterval, settings.variant, settings.ranks) = (samples, sigma, evaluationInterval, variant, ranks)
        (settings.esGroups, settings.trainGroups, settings.alternate) = (GroupOptions.list(esGroups), GroupOptions.list(trainGroups), alternate)
        settings.problem = problemSettings
        return settings
    }

    /// The problem-shaping options as the library's value.
    var problemSettings: ProblemSettings {
        var settings = ProblemSettings()
        (settings.horizon, settings.hidden, settings.neurons, settings.batch) = (horizon, hidden, neurons, batch)
        (settings.testTrials, settings.tokenDuration, settings.loss, settings.unscaled) = (testTrials, tokenDuration, loss, unscaled)
        (settings.preset, settings.setup, settings.precision, settings.inputs) = (preset, setup, precision, inputs)
        (settings.integrator, settings.dt) = (integrator, dt)
        return settings
    }

    /// The problem (``TrainingSettings/problem(_:methods:runs:memoryLimit:)``) with the thread
    /// count and the memory limit of ``resources`` applied.
    func problem(_ entry: TrainingEntry, methods: [GradientMethodKind], runs: Int = 1) throws -> TrainingRunner {
        try resources.applyThreads()
        return try training.problem(entry, methods: methods, runs: runs, memoryLimit: try resources.memoryLimit())
    }
}
