import Gradients
import NeuroODE

/// The gradient methods `gradient` can run, by their command-line names.
///
/// Adding a method takes one case here, its ``summary``, and one arm in
/// ``GradientMethodSettings/method()`` (plus its settings in ``GradientMethodSettings/statistics``).
public enum GradientMethodKind: String, CaseIterable, Sendable {
    case bptt
    case bpttCheckpointed = "bptt-checkpointed"
    case adjointFull = "adjoint-full"
    case adjointPartial = "adjoint-partial"
    case es
    /// ES on some parameter groups, the loss's groups (the readout) by their exact gradient.
    case hybrid
    /// The readout-only baseline: the loss's groups by their exact gradient, the rest frozen.
    case readout
    case fd

    public var summary: String {
        switch self {
        case .bptt: "backpropagation through the integrator's steps, every state stored"
        case .bpttCheckpointed: "the same gradient from every k-th state, segments recomputed"
        case .adjointFull: "continuous adjoint, the state integrated backward from y(T): constant memory"
        case .adjointPartial: "continuous adjoint reading the state from the stored forward trajectory"
        case .es: "evolution strategy: gradient of the Gaussian-smoothed loss from forward solves"
        case .hybrid: "ES on the hidden groups (--es-groups, --alternate), the readout by its exact gradient from the same forward pass"
        case .readout: "the readout groups (W_out, b_out) alone by their exact gradient, one forward pass; the rest frozen"
        case .fd: "central finite differences, 2 forward solves per parameter"
        }
    }

    public var isAdjoint: Bool { self == .adjointFull || self == .adjointPartial }
    /// Whether the method runs an evolution strategy (and reads --samples, --sigma, --variant, --ranks).
    public var isEvolutionStrategy: Bool { self == .es || self == .hybrid }
}

/// The chosen method with its settings, all validated on the command line.
public struct GradientMethodSettings: Sendable {
    /// How `bptt-checkpointed` chooses its checkpoint interval.
    public enum Checkpoints: Sendable, Equatable {
        case interval(Int)
        case memoryBudget(bytes: Int)
        case squareRoot
    }

    /// Tolerances of the adjoints' backward dopri5 when `--rtol`/`--atol` are not given: tight,
    /// so that the adjoint's own error stays well below the forward pass's.
    public static let defaultRelativeTolerance = 1e-8
    public static let defaultAbsoluteTolerance = 1e-10

    public var kind: GradientMethodKind
    public var checkpoints = Checkpoints.squareRoot
    public var relativeTolerance = defaultRelativeTolerance
    public var absoluteTolerance = defaultAbsoluteTolerance
    /// The adjoints' backward integrator (adaptive: dopri5 or CVODE).
    public var backwardIntegrator = IntegratorKind.dopri5
    /// Set for `adjoint-partial` on a CVODE task: CVODES' adjoint module, at the forward
    /// tolerances, replaces the backward integrator and its tolerances.
    public var runsThroughCVODES = false
    public var samples = 100
    public var sigma = 0.1
    public var sampling = EvolutionStrategy.Sampling.mirrored
    public var rankShaping = false
    public var seed: UInt64 = 0
    public var finiteDifferenceStep = 1e-5
    /// Set when parameter groups shape the method (hybrid, readout, es with group options):
    /// see ``GroupOptions``.
    public var grouped = false
    public var perturbedGroups: [String] = []
    public var exactGroups: [String] = []
    public var frozenGroups: [String] = []
    public var alternates = false
    /// For the methods that are not ES: the groups trained (nil: all), see ``FrozenGroups``.
    public var trainedGroups: [String]?

    /// The ES of these settings.
    public var evolutionStrategy: EvolutionStrategy {
        EvolutionStrategy(samples: samples, sigma: sigma, sampling: sampling, rankShaping: rankShaping, seed: seed)
    }

    /// The grouped method of these settings.
    public func groupedMethod() -> HybridEvolutionStrategy {
        HybridEvolutionStrategy(
            evolution: evolutionStrategy, perturbed: perturbedGroups, exact: exactGroups, frozen: frozenGroups, alternates: alternates)
    }
    /// `adjoint-full` only: return the gradient past the drift tolerance (flagged in the output).
    public var allowsDrift = false

    /// The settings of `kind` at their defaults.
    public init(kind: GradientMethodKind) {
        self.kind = kind
    }

    /// The library's method for these settings.
    public func method() -> any GradientMethod {
        if let trainedGroups, !grouped {
            var unrestricted = self
            unrestricted.trainedGroups = nil
            return FrozenGroups(base: unrestricted.method(), trained: trainedGroups)
        }
        switch kind {
        case .bptt:
            return BackpropagationThroughTime()
        case .bpttCheckpointed:
            switch checkpoints {
            case let .interval(k): return BackpropagationThroughTime(checkpointing: .interval(k))
            case let .memoryBudget(bytes): return BackpropagationThroughTime(checkpointing: .memoryBudget(bytes: bytes))
            case .squareRoot: return BackpropagationThroughTime(checkpointing: .squareRoot)
            }
        case .adjointFull, .adjointPartial:
            let backward: any Integrator = switch backwardIntegrator {
            case .cvodeBDF, .cvodeAdams:
                CVODE(method: backwardIntegrator == .cvodeBDF ? .bdf : .adams,
                      relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
            default:
                DormandPrince(relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance)
            }
            return AdjointMethod(variant: kind == .adjointFull ? .full : .partial, backwardIntegrator: backward, allowsDrift: allowsDrift)
        case .es:
            return grouped ? groupedMethod() : evolutionStrategy
        case .hybrid, .readout:
            return groupedMethod()
        case .fd:
            return FiniteDifferences(step: finiteDifferenceStep)
        }
    }

    /// The settings that shaped the result, as `stats` entries: a reader of the JSON can tell
    /// two runs of the same method apart without the command line.
    public var statistics: [(key: String, value: JSONValue)] {
        methodStatistics + (trainedGroups.map { [("trainGroups", .string($0.joined(separator: ",")))] } ?? [])
    }

    private var methodStatistics: [(key: String, value: JSONValue)] {
        switch kind {
        case .bptt:
            return [("checkpointing", .string("none"))]
        case .bpttCheckpointed:
            switch checkpoints {
            case let .interval(k):
                return [("checkpointing", .string("interval")), ("checkpointInterval", .integer(k))]
            case let .memoryBudget(bytes):
                return [("checkpointing", .string("memoryBudget")), ("memoryBudget", .integer(bytes))]
            case .squareRoot:
                return [("checkpointing", .string("squareRoot"))]
            }
        case .adjointFull, .adjointPartial:
            if runsThroughCVODES {
                let options = CVODESAdjoint.Options()
                return [("backwardIntegrator", .string("cvodes")), ("checkpointInterval", .integer(options.checkpointInterval))]
            }
            return [("backwardIntegrator", .string(backwardIntegrator.rawValue)),
                    ("rtol", .number(relativeTolerance)), ("atol", .number(absoluteTolerance))]
                + (kind == .adjointFull ? [("allowsDrift", .boolean(allowsDrift))] : [])
        case .es, .hybrid:
            let evolution: [(key: String, value: JSONValue)] = [
                ("samples", .integer(samples)), ("sigma", .number(sigma)), ("variant", .string(sampling.rawValue)),
                ("ranks", .boolean(rankShaping)), ("seed", .unsigned(seed))]
            return evolution + (grouped ? groupStatistics : [])
        case .readout:
            return groupStatistics
        case .fd:
            return [("step", .number(finiteDifferenceStep))]
        }
    }

    /// The groups' roles, as `stats` entries (lists as comma-separated names; empty: none).
    private var groupStatistics: [(key: String, value: JSONValue)] {
        [("esGroups", .string(perturbedGroups.joined(separator: ","))), ("exactGroups", .string(exactGroups.joined(separator: ","))),
         ("frozenGroups", .string(frozenGroups.joined(separator: ","))), ("alternate", .boolean(alternates))]
    }
}

/// A method's settings as one line (part of a checkpoint's identity and of the summary).
public func describe(_ settings: GradientMethodSettings) -> String {
    settings.statistics.map { "\($0.key)=\($0.value.plain)" }.joined(separator: " ")
}
