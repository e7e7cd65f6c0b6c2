import Foundation
import Gradients
import NeuroODE

/// `gradient`: the loss of a catalog task at one point θ and its gradient by one method, with
/// what the method cost (README "Gradients").
///
/// Every option applies to some tasks or methods only; ``validate(memoryLimit:)`` refuses one
/// given elsewhere, naming it, and checks the memory before any work. Fields left nil take the
/// task's or the method's default.
public struct GradientStudy: Codable, Equatable, Sendable {
    public var task: String
    /// A ``GradientMethodKind`` name.
    public var method = GradientMethodKind.bptt.rawValue

    // Task options.
    /// `NAME=VALUE` entries of θ.
    public var parameters: [String] = []
    /// turn-off's τ (ms) or rober-integral's T.
    public var horizon: Double?
    public var precision: Precision?
    /// Step of a fixed-step forward integrator (ms).
    public var dt: Double?
    public var integrator: String?
    /// The adjoints' backward integrator.
    public var backwardIntegrator: String?
    public var rtol: Double?
    public var atol: Double?
    public var hidden: Int?
    public var windows: Int?
    public var windowLength: Int?
    public var neurons: Int?
    public var batch: Int?
    public var preset: String?
    public var seed: UInt64?
    /// Target spike times (ms), increasing.
    public var targets: [Double]?

    // Method options.
    public var checkpointInterval: Int?
    /// Bytes the checkpointed BPTT may store.
    public var memoryBudget: Int?
    public var samples: Int?
    public var sigma: Double?
    public var variant: String?
    public var ranks = false
    public var esGroups: [String]?
    public var trainGroups: [String]?
    public var alternate = false
    public var fdStep: Double?
    public var allowDrift = false

    public init(task: String) {
        self.task = task
    }

    /// A checked evaluation: the task built and the method's settings resolved.
    public struct Plan {
        public let entry: GradientTaskEntry
        public let runner: GradientRunner
        public let settings: GradientMethodSettings
        /// The study with the method's defaults filled in, as recorded in the provenance.
        public let resolved: GradientStudy
    }

    /// Checks every option against the task and the method, and the memory against
    /// `memoryLimit`, before any work; the error names the option at fault.
    public func validate(memoryLimit: MemoryLimit = .machine) throws -> Plan {
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
            precision: precision, targets: targets, parameterChanges: try ArgumentList.assignments(parameters, option: "--param"),
            methodReadsTolerances: kind.isAdjoint, methodIsPartialAdjoint: kind == .adjointPartial)
        try memoryEstimate(task: entry.name, kind: kind).check(against: memoryLimit)
        let runner = try entry.makeRunner(options)
        try GroupOptions(perturbed: esGroups, trained: trainGroups, alternates: alternate).apply(to: &settings, groups: runner.parameterGroups)
        // The partial adjoint of a CVODE task runs through CVODES at the forward tolerances (the
        // task applied --rtol/--atol to them), not through a backward integrator.
        settings.runsThroughCVODES = kind == .adjointPartial && runner.integratesWithCVODE
        if settings.runsThroughCVODES, backwardIntegrator != nil {
            throw CommandLineError.inapplicable(
                option: "--backward-integrator", reason: "adjoint-partial of a CVODE forward pass runs through CVODES' adjoint module")
        }
        var resolved = self
        resolved.seed = settings.seed
        if kind.isAdjoint {
            (resolved.rtol, resolved.atol) = (settings.relativeTolerance, settings.absoluteTolerance)
            if !settings.runsThroughCVODES { resolved.backwardIntegrator = settings.backwardIntegrator.rawValue }
        }
        if kind.isEvolutionStrategy {
            (resolved.samples, resolved.sigma, resolved.variant) = (settings.samples, settings.sigma, settings.sampling.rawValue)
        }
        if kind == .fd { resolved.fdStep = settings.finiteDifferenceStep }
        return Plan(entry: entry, runner: runner, settings: settings, resolved: resolved)
    }

    /// Validates, then estimates the loss and gradient. A solver failure inside the method, or a
    /// non-finite gradient entry, is a ``GradientFailure`` naming the method (never a number).
    public func run(memoryLimit: MemoryLimit = .machine) throws -> GradientOutput {
        let plan = try validate(memoryLimit: memoryLimit)
        let kind = plan.settings.kind
        let estimate: GradientEstimate
        do {
            estimate = try plan.runner.estimate(with: plan.settings.method())
        } catch let error as ODEError {
            // The input was checked above, so a solver error here is the method's own failure
            // (the full adjoint's backsolve diverging, say): say which method met it.
            throw GradientFailure.methodFailed(method: kind.rawValue, reason: "\(error)")
        } catch let error as TrainingError {
            guard case .backsolveDiverged = error else { throw error }
            throw GradientFailure.methodFailed(method: kind.rawValue, reason: error.description)
        }
        if let index = estimate.gradient.firstIndex(where: { !$0.isFinite }) {
            throw GradientFailure.nonFiniteGradient(method: kind.rawValue, name: plan.runner.parameterNames[index], value: estimate.gradient[index])
        }
        return GradientOutput(
            task: plan.entry.name, taskDescription: plan.runner.description, method: plan.settings,
            parameterNames: plan.runner.parameterNames, estimate: estimate, provenance: Provenance.current(settings: plan.resolved))
    }

    /// The task's size options as memory (README "Resource limits"), at the tasks' defaults.
    private func memoryEstimate(task: String, kind: GradientMethodKind) -> MemoryEstimate {
        var estimate = MemoryEstimate()
        switch task {
        case "evidence":
            // 50 tokens of 6 ms and the 10 ms readout, in leapfrog steps.
            RunEstimate.network(&estimate, neurons: neurons ?? 128, batch: batch ?? 64, steps: 310 / (dt ?? 0.1), kinds: [kind])
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
            ("--ranks", ranks, evolution), ("--fd-step", fdStep != nil, [.fd]),
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
        if let step = fdStep {
            guard step.isFinite, step > 0 else { throw .invalidValue(option: "--fd-step", value: "\(step)", reason: "must be finite and positive") }
            settings.finiteDifferenceStep = step
        }
        return settings
    }
}
