import Foundation
import Gradients
import NeuroODE

/// The settings `compare`, `train` and `rober-fit` share: the training loop's, the optimizer's,
/// ES's and the problem's (``ProblemSettings``), as given (`nil`: the problem's default). The
/// functions here resolve them against a problem's defaults and refuse, naming the option, a
/// value out of range or an option no chosen method reads.
public struct TrainingSettings: Codable, Equatable, Sendable {
    /// Iterations (nil: the problem's).
    public var iterations: Int?
    /// Seed of the initialization, the minibatches and the ES noise; run r uses seed + r.
    public var seed: UInt64?
    /// The paper's configuration instead of the small default.
    public var paper = false
    /// adam, adamw, sgd or rmsprop (nil: the problem's).
    public var optimizer: String?
    public var learningRate: Double?
    /// AdamW's decoupled weight decay.
    public var weightDecay: Double?
    /// Clip gradients longer than this norm; 0 turns clipping off.
    public var clip: Double?
    /// ES samples per iteration.
    public var samples: Int?
    /// ES perturbation scale σ, and CMA-ES's initial step size σ₀.
    public var sigma: Double?
    /// Iterations between evaluations of the held-out metric.
    public var evaluationInterval: Int?
    /// ES sampling: mirrored or plain.
    public var variant: String?
    /// Centred-rank fitness shaping of the ES losses.
    public var ranks = false
    /// Parameter groups ES perturbs, in the alternating cycle's order.
    public var esGroups: [String]?
    /// Parameter groups trained at all.
    public var trainGroups: [String]?
    /// Perturb and update one ES group per iteration.
    public var alternate = false
    /// The options that shape the problem.
    public var problem = ProblemSettings()

    public init() {}

    /// `paper`, or the problem's `setup` "paper".
    public var usesPaperSize: Bool { paper || problem.setup == "paper" }

    /// The problem, after rejecting problem options it does not read and sizes that would not fit
    /// in `memoryLimit` when trained with `methods` for `runs` runs.
    public func problem(_ entry: TrainingEntry, methods: [GradientMethodKind], runs: Int = 1, memoryLimit: MemoryLimit = .machine) throws -> TrainingRunner {
        try problem.rejectOptions(notReadBy: entry)
        try memoryEstimate(entry.name, methods: methods, runs: runs).check(against: memoryLimit)
        return try entry.make(problem, usesPaperSize)
    }

    /// The problem's size options as memory (README "Resource limits"), at the problem's small or
    /// paper defaults.
    public func memoryEstimate(_ task: String, methods: [GradientMethodKind], runs: Int) -> MemoryEstimate {
        var estimate = MemoryEstimate()
        switch task {
        case "evidence":
            let base = usesPaperSize ? EvidenceTask.Configuration.paper : .small
            let duration = problem.tokenDuration ?? base.tokenDuration
            let steps = (50 * duration + EvidenceTask.readoutWindow) / base.stepSize
            RunEstimate.network(&estimate, neurons: problem.neurons ?? base.neurons, batch: problem.batch ?? base.batchSize, steps: steps, kinds: methods)
            let trials = problem.testTrials ?? base.testTrials
            estimate.add("the held-out trials' states", option: "--test-trials", value: trials,
                         doubles: 40 * 2 * Double(problem.neurons ?? base.neurons) * Double(trials))
        case "spiral":
            let base = usesPaperSize ? SpiralTraining.Configuration.paper : .small
            RunEstimate.spiral(&estimate, hidden: problem.hidden ?? base.hidden, windows: base.windows, windowLength: base.windowLength)
        case "turn-off":
            let base = usesPaperSize ? TurnOffTraining.Configuration.paper : .small
            RunEstimate.turnOff(&estimate, horizon: problem.horizon ?? base.horizon, stepSize: base.stepSize, kinds: methods)
        default:
            break
        }
        RunEstimate.samples(&estimate, samples)
        RunEstimate.log(&estimate, iterations: iterations, runs: runs * methods.count)
        return estimate
    }

    /// The optimizer, from the problem's default and the options.
    public func optimizerChoice(_ runner: TrainingRunner) throws(CommandLineError) -> OptimizerChoice {
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
    public func methodSettings(_ kind: GradientMethodKind, runner: TrainingRunner, seed: UInt64) throws -> GradientMethodSettings {
        if problem.precision == .f32, ![.es, .hybrid, .readout].contains(kind) {
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
        try GroupOptions(perturbed: esGroups, trained: trainGroups, alternates: alternate).apply(to: &settings, groups: runner.parameterGroups)
        if kind.isEvolutionStrategy { try settings.evolutionStrategy.validate() }
        return settings
    }

    /// Throws for the first ES option given when none of `kinds` reads it.
    /// `compare` passes `cmaesListed`: there CMA-ES reads `--sigma` as its initial step size too.
    public func rejectMethodOptions(unusedBy kinds: [GradientMethodKind], cmaesListed: Bool? = nil) throws(CommandLineError) {
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
    public func trainerConfiguration(_ kind: GradientMethodKind, runner: TrainingRunner, seed: UInt64) throws(CommandLineError) -> TrainerConfiguration {
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
