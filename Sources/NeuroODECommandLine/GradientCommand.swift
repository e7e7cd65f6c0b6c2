import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode gradient TASK --method M`: the loss of a training task at one point θ and its
/// gradient by one method, with what the method cost.
struct GradientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradient",
        abstract: "Compute a task's loss and its gradient by one method.",
        discussion: """
            Tasks:
            \(GradientTaskCatalog.entries.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))
            Methods:
            \(GradientMethodKind.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))
            Every option applies to some tasks or methods only; giving it elsewhere is an error. \
            Invalid input exits with status 1 or 64 and one line on standard error.
            """
    )

    @Argument(help: "The task: \(GradientTaskCatalog.names.joined(separator: ", ")).")
    var task: String

    @Option(help: ArgumentHelp(
        "The gradient method: \(GradientMethodKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "name"))
    var method: String = GradientMethodKind.bptt.rawValue

    // MARK: Task options

    @Option(
        name: .customLong("param"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("Set one entry of θ (e.g. I=95, 'W1[0,1]=0.3'); repeatable.", valueName: "NAME=VALUE"))
    var parameters: [String] = []

    @Option(parsing: .unconditional, help: "Horizon: turn-off τ in ms (default 3000); rober-integral T (default 4e7).")
    var horizon: Double?

    @Option(help: ArgumentHelp(
        "Arithmetic of the leapfrog: f64 (default) or f32, for the forward-only methods es, hybrid and readout (turn-off, evidence).",
        valueName: "f32|f64"))
    var precision: Precision?

    @Option(parsing: .unconditional, help: "Step of a fixed-step forward integrator (turn-off; default 0.1 ms).")
    var dt: Double?

    @Option(help: ArgumentHelp(
        "Forward integrator: \(IntegratorKind.allCases.map(\.rawValue).joined(separator: ", ")) (turn-off; default leapfrog); cvode-bdf, cvode-adams, dopri5 (rober-integral; default cvode-bdf).",
        valueName: "name"))
    var integrator: String?

    @Option(
        name: .customLong("backward-integrator"),
        help: ArgumentHelp(
            "Backward integrator of the adjoints: dopri5, cvode-bdf or cvode-adams (default: the task's, dopri5; rober-integral cvode-bdf).",
            valueName: "name"))
    var backwardIntegrator: String?

    @Option(parsing: .unconditional, help: "Relative tolerance of the adjoints' backward pass and of an adaptive forward pass (default 1e-8).")
    var rtol: Double?

    @Option(parsing: .unconditional, help: "Absolute tolerance, likewise (default 1e-10).")
    var atol: Double?

    @Option(parsing: .unconditional, help: "Hidden width H of the MLP (spiral; default 50).")
    var hidden: Int?

    @Option(parsing: .unconditional, help: "Windows in the minibatch (spiral; default 20).")
    var windows: Int?

    @Option(name: .customLong("window-length"), parsing: .unconditional, help: "Points per window (spiral; default 10).")
    var windowLength: Int?

    @Option(parsing: .unconditional, help: "Neurons N of the network (evidence; default 128).")
    var neurons: Int?

    @Option(parsing: .unconditional, help: "Trials B in the batch (evidence; default 64).")
    var batch: Int?

    @Option(help: ArgumentHelp(
        "Neuron preset of the network: snic (case A, default) or snic-explosive (case B); also hopf, explosive (evidence).",
        valueName: "name"))
    var preset: String?

    @Option(help: "Seed of the initialization and the data (spiral, evidence) and of the ES noise (default 0).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Target spike times t1,…,tK in ms, increasing (spike-timing tasks).", valueName: "list"))
    var targets: String?

    // MARK: Method options

    @Option(
        name: .customLong("checkpoint-interval"), parsing: .unconditional,
        help: "Keep every K-th state (bptt-checkpointed; default ⌈√steps⌉).")
    var checkpointInterval: Int?

    @Option(
        name: .customLong("memory-budget"), parsing: .unconditional,
        help: ArgumentHelp("Choose K so that the stored states fit in BYTES (bptt-checkpointed).", valueName: "bytes"))
    var memoryBudget: Int?

    @Option(parsing: .unconditional, help: "Samples per estimate (es, hybrid; default 100, even when mirrored).")
    var samples: Int?

    @Option(parsing: .unconditional, help: "Perturbation scale σ in parameter units (es, hybrid; default: the task's, turn-off 1.0, spiral 0.01).")
    var sigma: Double?

    @Option(help: ArgumentHelp("Sampling: mirrored (the paper's) or plain (one unperturbed sample) (es, hybrid).", valueName: "name"))
    var variant: String?

    @Flag(help: "Centred-rank fitness shaping (es, hybrid).")
    var ranks = false

    @Option(name: .customLong("es-groups"), help: ArgumentHelp(
        "Parameter groups ES perturbs, in the --alternate cycle's order (es, hybrid; evidence: W_in, W_rec, W_out, b_out).", valueName: "list"))
    var esGroups: String?

    @Option(name: .customLong("train-groups"), help: ArgumentHelp(
        "Parameter groups trained at all; the others get a zero gradient.", valueName: "list"))
    var trainGroups: String?

    @Flag(help: "One --es-groups group per iteration, cycling; here iteration 0, so the first listed (es, hybrid).")
    var alternate = false

    @Option(name: .customLong("fd-step"), parsing: .unconditional, help: "Relative probe step h (fd; default 1e-5).")
    var finiteDifferenceStep: Double?

    @Flag(name: .customLong("allow-drift"), help: "Return the full adjoint's gradient even when its backsolve drifts past the tolerance (adjoint-full; flagged in the output).")
    var allowDrift = false

    // MARK: Output

    @Option(help: "Output format: text (a summary) or json.")
    var format: GradientFormat = .text

    @OptionGroup var resources: ResourceOptions

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        try resources.applyThreads()
        var study = GradientStudy(task: task)
        study.method = method
        study.parameters = parameters
        (study.horizon, study.precision, study.dt, study.integrator, study.backwardIntegrator) = (horizon, precision, dt, integrator, backwardIntegrator)
        (study.rtol, study.atol, study.hidden, study.windows, study.windowLength) = (rtol, atol, hidden, windows, windowLength)
        (study.neurons, study.batch, study.preset, study.seed) = (neurons, batch, preset, seed)
        study.targets = try targets.map { text throws(CommandLineError) in try ArgumentList.numbers(text, option: "--targets") }
        (study.checkpointInterval, study.memoryBudget, study.samples, study.sigma, study.variant) = (checkpointInterval, memoryBudget, samples, sigma, variant)
        (study.ranks, study.esGroups, study.trainGroups, study.alternate) = (ranks, GroupOptions.list(esGroups), GroupOptions.list(trainGroups), alternate)
        (study.fdStep, study.allowDrift) = (finiteDifferenceStep, allowDrift)
        let output = try study.run(memoryLimit: try resources.memoryLimit())
        try OutputFile.standardOutput(format == .json ? output.json() : output.text())
    }
}

/// The output forms of `gradient`.
enum GradientFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case text
    case json
}
