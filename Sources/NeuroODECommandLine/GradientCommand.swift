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
        let entry = try GradientTaskCatalog.entry(named: task)
        guard let kind = GradientMethodKind(rawValue: method) else {
            throw CommandLineError.unknownName(kind: "method", name: method, choices: GradientMethodKind.allCases.map(\.rawValue))
        }
        try checkTaskOptions(entry: entry, kind: kind)
        var settings = try methodSettings(kind: kind, entry: entry)
        // The library's own rules for ES options (σ > 0, even mirrored counts), before any work.
        if kind.isEvolutionStrategy { try settings.evolutionStrategy.validate() }

        let options = GradientTaskOptions(
            horizon: horizon, stepSize: dt, integrator: integrator, relativeTolerance: rtol, absoluteTolerance: atol,
            hidden: hidden, windows: windows, windowLength: windowLength, seed: seed, neurons: neurons, batchSize: batch, preset: preset,
            precision: precision,
            targets: try targets.map { text throws(CommandLineError) in try ArgumentList.numbers(text, option: "--targets") },
            parameterChanges: try ArgumentList.assignments(parameters, option: "--param"),
            methodReadsTolerances: kind.isAdjoint, methodIsPartialAdjoint: kind == .adjointPartial)
        try resources.applyThreads()
        try memoryEstimate(task: entry.name, kind: kind).check(against: try resources.memoryLimit())
        let runner = try entry.makeRunner(options)
        let groupOptions = GroupOptions(perturbed: GroupOptions.list(esGroups), trained: GroupOptions.list(trainGroups), alternates: alternate)
        try groupOptions.apply(to: &settings, groups: runner.parameterGroups)
        let gradientMethod = settings.method()
        // The partial adjoint of a CVODE task runs through CVODES at the forward tolerances (the
        // task applied --rtol/--atol to them), not through a backward integrator.
        settings.runsThroughCVODES = kind == .adjointPartial && runner.integratesWithCVODE
        if settings.runsThroughCVODES, backwardIntegrator != nil {
            throw CommandLineError.inapplicable(
                option: "--backward-integrator", reason: "adjoint-partial of a CVODE forward pass runs through CVODES' adjoint module")
        }
        let estimate: GradientEstimate
        do {
            estimate = try runner.estimate(with: gradientMethod)
        } catch let error as ODEError {
            // The input was checked above, so a solver error here is the method's own failure
            // (the full adjoint's backsolve diverging, say): say which method met it.
            throw GradientFailure.methodFailed(method: kind.rawValue, reason: "\(error)")
        } catch let error as TrainingError {
            guard case .backsolveDiverged = error else { throw error }
            throw GradientFailure.methodFailed(method: kind.rawValue, reason: error.description)
        }
        if let index = estimate.gradient.firstIndex(where: { !$0.isFinite }) {
            throw GradientFailure.nonFiniteGradient(
                method: kind.rawValue, name: runner.parameterNames[index], value: estimate.gradient[index])
        }
        let output = GradientOutput(
            task: entry.name, taskDescription: runner.description, method: settings,
            parameterNames: runner.parameterNames, estimate: estimate)
        try OutputFile.standardOutput(format == .json ? output.json() : output.text())
    }

    /// The task's size options as memory (README "Resource limits"), at the tasks' defaults.
    private func memoryEstimate(task: String, kind: GradientMethodKind) -> MemoryEstimate {
        var estimate = MemoryEstimate()
        switch task {
        case "evidence":
            // 50 tokens of 6 ms and the 10 ms readout, in leapfrog steps.
            RunEstimate.network(
                &estimate, neurons: neurons ?? 128, batch: batch ?? 64, steps: 310 / (dt ?? 0.1), kinds: [kind])
        case "spiral":
            RunEstimate.spiral(&estimate, hidden: hidden ?? 50, windows: windows ?? 20, windowLength: windowLength ?? 10)
        case "turn-off":
            RunEstimate.turnOff(&estimate, horizon: horizon ?? 3000, stepSize: dt ?? 0.1, kinds: [kind])
        default:
            break
        }
        RunEstimate.samples(&estimate, samples)
        return estimate
    }

    /// Rejects task options the task does not read. `--seed` also serves ES, and `--rtol`/`--atol`
    /// the adjoints, so those are rejected only when neither the task nor the method reads them.
    private func checkTaskOptions(entry: GradientTaskEntry, kind: GradientMethodKind) throws(CommandLineError) {
        let given: [(GradientTaskOption, Bool)] = [
            (.horizon, horizon != nil), (.dt, dt != nil), (.integrator, integrator != nil),
            (.hidden, hidden != nil), (.windows, windows != nil), (.windowLength, windowLength != nil),
            (.neurons, neurons != nil), (.batch, batch != nil), (.preset, preset != nil), (.precision, precision != nil),
            (.targets, targets != nil), (.seed, seed != nil && !kind.isEvolutionStrategy),
            (.tolerances, (rtol != nil || atol != nil) && !kind.isAdjoint),
        ]
        for (option, isGiven) in given where isGiven && !entry.options.contains(option) {
            let name = option == .tolerances ? (rtol != nil ? "--rtol" : "--atol") : option.rawValue
            throw .inapplicable(option: name, reason: "\(entry.name) does not take it\(option == .seed || option == .tolerances ? " and \(kind.rawValue) does not use it" : "")")
        }
        if let rtol, !(rtol.isFinite && rtol > 0 && rtol < 1) {
            throw .invalidValue(option: "--rtol", value: "\(rtol)", reason: "must be positive and below 1")
        }
        if let atol, !(atol.isFinite && atol > 0) {
            throw .invalidValue(option: "--atol", value: "\(atol)", reason: "must be finite and positive")
        }
    }

    private func methodSettings(kind: GradientMethodKind, entry: GradientTaskEntry) throws(CommandLineError) -> GradientMethodSettings {
        let evolution: [GradientMethodKind] = [.es, .hybrid]
        let owners: [(option: String, given: Bool, methods: [GradientMethodKind])] = [
            ("--checkpoint-interval", checkpointInterval != nil, [.bpttCheckpointed]),
            ("--memory-budget", memoryBudget != nil, [.bpttCheckpointed]),
            ("--samples", samples != nil, evolution), ("--sigma", sigma != nil, evolution), ("--variant", variant != nil, evolution),
            ("--ranks", ranks, evolution), ("--fd-step", finiteDifferenceStep != nil, [.fd]),
            ("--es-groups", esGroups != nil, evolution), ("--alternate", alternate, evolution),
            ("--allow-drift", allowDrift, [.adjointFull]),
        ]
        if let stray = owners.first(where: { $0.given && !$0.methods.contains(kind) }) {
            let names = stray.methods.map(\.rawValue).joined(separator: " and ")
            throw .inapplicable(option: stray.option, reason: "it is an option of \(names), not \(kind.rawValue)")
        }
        if backwardIntegrator != nil, !kind.isAdjoint {
            throw .inapplicable(option: "--backward-integrator", reason: "it is an option of the adjoints, not \(kind.rawValue)")
        }
        var settings = GradientMethodSettings(kind: kind)
        settings.backwardIntegrator = entry.backwardIntegrator
        if let backwardIntegrator {
            guard let chosen = IntegratorKind(rawValue: backwardIntegrator), !chosen.isFixedStep else {
                throw .unknownName(kind: "backward integrator", name: backwardIntegrator, choices: ["dopri5", "cvode-bdf", "cvode-adams"])
            }
            settings.backwardIntegrator = chosen
        }
        settings.relativeTolerance = rtol ?? settings.relativeTolerance
        settings.absoluteTolerance = atol ?? settings.absoluteTolerance
        switch (checkpointInterval, memoryBudget) {
        case (.some, .some):
            throw .inapplicable(option: "--memory-budget", reason: "--checkpoint-interval already fixes the interval")
        case let (k?, nil):
            guard k >= 1 else { throw .invalidValue(option: "--checkpoint-interval", value: "\(k)", reason: "must be at least 1") }
            settings.checkpoints = .interval(k)
        case let (nil, bytes?):
            guard bytes >= 1 else { throw .invalidValue(option: "--memory-budget", value: "\(bytes)", reason: "must be at least 1 byte") }
            settings.checkpoints = .memoryBudget(bytes: bytes)
        case (nil, nil):
            break
        }
        if let variant {
            guard let sampling = EvolutionStrategy.Sampling(rawValue: variant) else {
                throw .unknownName(kind: "variant", name: variant, choices: EvolutionStrategy.Sampling.allCases.map(\.rawValue))
            }
            settings.sampling = sampling
        }
        settings.samples = samples ?? settings.samples
        settings.sigma = sigma ?? entry.sigma
        settings.rankShaping = ranks
        settings.allowsDrift = allowDrift
        settings.seed = seed ?? 0
        if let step = finiteDifferenceStep {
            guard step.isFinite, step > 0 else {
                throw .invalidValue(option: "--fd-step", value: "\(step)", reason: "must be finite and positive")
            }
            settings.finiteDifferenceStep = step
        }
        return settings
    }
}

/// The output forms of `gradient`.
enum GradientFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case text
    case json
}
