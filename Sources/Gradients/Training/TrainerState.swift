import Foundation

/// Everything a training run carries from one iteration to the next — and so everything a
/// checkpoint holds. Restoring it and continuing gives the same log and θ, bit for bit, as never
/// having stopped (wall times aside).
public struct TrainerState<Base: Optimizer>: Sendable, Codable {
    /// θ and the optimizer at a point training can return to.
    public struct Snapshot: Sendable, Codable {
        /// Iterations completed when the snapshot was taken.
        public var iteration: Int
        /// θ at the snapshot.
        public var parameters: [Double]
        /// The optimizer, moments included, at the snapshot.
        public var optimizer: SafeguardedOptimizer<Base>
    }

    /// The run this state belongs to; a checkpoint resumes only under an equal identity.
    public var identity: TrainingRunIdentity
    /// The next iteration to run (= iterations completed).
    public var nextIteration: Int
    /// The current θ.
    public var parameters: [Double]
    /// The optimizer with its current moments and learning rate.
    public var optimizer: SafeguardedOptimizer<Base>
    /// One record per iteration run so far, in order.
    public var log: [TrainingRecord]
    /// Wall-clock seconds spent training, over every session.
    public var elapsed: Double
    /// Failed iterations since the last successful update.
    public var consecutiveFailures: Int
    /// Rollbacks performed so far.
    public var rollbacks: Int
    /// Where a rollback returns to: the state at the last checkpoint taken without pending failures.
    public var lastGood: Snapshot
    /// Why the run stopped before its iteration count (``EarlyStopping``), or nil.
    public var stopReason: EarlyStopping.Reason?
    /// The iteration after which the best checkpoint so far was taken, and its score.
    public var bestCheckpoint: (iteration: Int, score: Double)? {
        get { bestCheckpointIteration.map { ($0, bestCheckpointScore) } }
        set {
            bestCheckpointIteration = newValue?.iteration
            bestCheckpointScore = newValue?.score ?? .nan
        }
    }
    private var bestCheckpointIteration: Int?
    private var bestCheckpointScore: Double

    /// Why this state, although it decoded, cannot be the state of a run with `parameterCount`
    /// parameters: lengths, counts and ranges that a checkpoint with a valid checksum may still
    /// get wrong (a bug or a hand edit). `nil` when it is consistent.
    public func inconsistency(parameterCount: Int) -> String? {
        guard nextIteration >= 0 else { return "next iteration \(nextIteration) is negative" }
        guard parameters.count == parameterCount else { return "θ has \(parameters.count) entries, the run has \(parameterCount)" }
        guard lastGood.parameters.count == parameterCount else {
            return "the rollback point's θ has \(lastGood.parameters.count) entries, the run has \(parameterCount)"
        }
        guard (0...nextIteration).contains(lastGood.iteration) else {
            return "the rollback point's iteration \(lastGood.iteration) is outside 0...\(nextIteration)"
        }
        guard log.count == nextIteration else { return "the log has \(log.count) rows for \(nextIteration) iterations" }
        if let index = log.indices.first(where: { log[$0].iteration != $0 }) {
            return "log row \(index) is for iteration \(log[index].iteration)"
        }
        guard consecutiveFailures >= 0, rollbacks >= 0 else {
            return "negative failure or rollback count (\(consecutiveFailures), \(rollbacks))"
        }
        guard elapsed.isFinite, elapsed >= 0 else { return "elapsed time \(elapsed) is not a finite non-negative number" }
        if let best = bestCheckpointIteration, !(0...nextIteration).contains(best) {
            return "the best checkpoint's iteration \(best) is outside 0...\(nextIteration)"
        }
        if let index = parameters.firstIndex(where: { !$0.isFinite }) { return "θ[\(index)] = \(parameters[index]) is not finite" }
        for (what, optimizer) in [("optimizer", optimizer), ("rollback point's optimizer", lastGood.optimizer)] {
            if let reason = Self.optimizerInconsistency(optimizer, parameterCount: parameterCount) { return "the \(what): \(reason)" }
        }
        return nil
    }

    /// Checks an optimizer through its encoding, whatever its type: every list of numbers (its
    /// moments) is empty or one entry per parameter, and every learning rate finite and positive.
    private static func optimizerInconsistency(_ optimizer: SafeguardedOptimizer<Base>, parameterCount: Int) -> String? {
        guard let data = try? JSONEncoder().encode(optimizer), let json = try? JSONSerialization.jsonObject(with: data) else {
            return "does not encode"
        }
        func check(_ value: Any, _ path: String) -> String? {
            switch value {
            case let dictionary as [String: Any]:
                for key in dictionary.keys.sorted() {
                    if let reason = check(dictionary[key]!, path.isEmpty ? key : path + "." + key) { return reason }
                }
                if let rate = dictionary["learningRate"] as? Double, !(rate.isFinite && rate > 0) {
                    return "\(path).learningRate = \(rate) is not finite and positive"
                }
            case let list as [Any]:
                if !list.isEmpty, list.count != parameterCount, list.allSatisfy({ $0 is NSNumber }) {
                    return "\(path) has \(list.count) entries, the run has \(parameterCount) parameters"
                }
            default:
                break
            }
            return nil
        }
        return check(json, "")
    }

    /// The state before the first iteration: θ and the optimizer as given, an empty log, and the
    /// initial θ as the rollback point.
    public init(identity: TrainingRunIdentity, parameters: [Double], optimizer: SafeguardedOptimizer<Base>) {
        self.identity = identity
        nextIteration = 0
        self.parameters = parameters
        self.optimizer = optimizer
        log = []
        elapsed = 0
        consecutiveFailures = 0
        rollbacks = 0
        lastGood = Snapshot(iteration: 0, parameters: parameters, optimizer: optimizer)
        bestCheckpointIteration = nil
        bestCheckpointScore = .nan
    }
}

/// What makes two training runs the same run: a checkpoint is only resumed by a run with equal
/// identity (the iteration count may grow, so a finished run can be extended).
public struct TrainingRunIdentity: Sendable, Codable, Equatable {
    /// The problem's name.
    public var problem: String
    /// The problem's configuration, as JSON.
    public var configuration: String
    /// The gradient method's name.
    public var method: String
    /// The method's settings in words, as the caller describes them.
    public var methodSettings: String
    /// The optimizer's name.
    public var optimizer: String
    /// The training seed.
    public var seed: UInt64
    /// The length of θ.
    public var parameterCount: Int
    /// The gradient clipping threshold, or `nil` for none.
    public var maxGradientNorm: Double?
    /// The learning-rate schedule in words, or `nil` for a constant rate (and in checkpoints
    /// written before schedules existed, which had none).
    public var learningRateSchedule: String?
    /// The parameter scale (``TrainerConfiguration/parameterScale``), or `nil` for none (and in
    /// checkpoints written before it existed).
    public var parameterScale: [Double]?
    /// The optimizer's hyperparameters as JSON (learning rate, weight decay, β, ε …; its moments
    /// are empty here), so that a resume under another learning rate or weight decay is refused.
    /// `nil` in checkpoints written before this field existed, which are not checked for it.
    public var optimizerSettings: String?

    /// An identity from its fields (``Trainer`` builds its own from its problem, method and settings).
    public init(
        problem: String, configuration: String, method: String, methodSettings: String, optimizer: String,
        seed: UInt64, parameterCount: Int, maxGradientNorm: Double?, learningRateSchedule: String? = nil,
        parameterScale: [Double]? = nil, optimizerSettings: String? = nil
    ) {
        self.problem = problem
        self.configuration = configuration
        self.method = method
        self.methodSettings = methodSettings
        self.optimizer = optimizer
        self.seed = seed
        self.parameterCount = parameterCount
        self.maxGradientNorm = maxGradientNorm
        self.learningRateSchedule = learningRateSchedule
        self.parameterScale = parameterScale
        self.optimizerSettings = optimizerSettings
    }

    /// The first field that differs from `other`, with both values.
    func firstDifference(from other: TrainingRunIdentity) -> (field: String, mine: String, theirs: String)? {
        let fields: [(String, String, String)] = [
            ("problem", problem, other.problem), ("configuration", configuration, other.configuration),
            ("method", method, other.method), ("method settings", methodSettings, other.methodSettings),
            ("optimizer", optimizer, other.optimizer), ("seed", "\(seed)", "\(other.seed)"),
            ("parameter count", "\(parameterCount)", "\(other.parameterCount)"),
            ("gradient clip", "\(maxGradientNorm.map { "\($0)" } ?? "none")", "\(other.maxGradientNorm.map { "\($0)" } ?? "none")"),
            ("learning-rate schedule", learningRateSchedule ?? "constant", other.learningRateSchedule ?? "constant"),
            ("parameter scale", parameterScale.map { "\($0)" } ?? "none", other.parameterScale.map { "\($0)" } ?? "none"),
        ]
        if let difference = fields.first(where: { $0.1 != $0.2 }) {
            return (field: difference.0, mine: difference.1, theirs: difference.2)
        }
        if let mine = optimizerSettings, let theirs = other.optimizerSettings, mine != theirs {
            return Self.firstDifference(json: mine, json: theirs) ?? (field: "optimizer settings", mine: mine, theirs: theirs)
        }
        return nil
    }

    /// The first leaf (by sorted key path) where two JSON texts differ, named by its last key
    /// (`learningRate`, `weightDecay`).
    private static func firstDifference(json first: String, json second: String) -> (field: String, mine: String, theirs: String)? {
        guard let a = try? JSONSerialization.jsonObject(with: Data(first.utf8)),
              let b = try? JSONSerialization.jsonObject(with: Data(second.utf8)) else { return nil }
        func walk(_ a: Any?, _ b: Any?, _ key: String) -> (String, String, String)? {
            if let x = a as? [String: Any], let y = b as? [String: Any] {
                for key in Set(x.keys).union(y.keys).sorted() {
                    if let found = walk(x[key], y[key], key) { return found }
                }
                return nil
            }
            let left = a.map { "\($0)" } ?? "none", right = b.map { "\($0)" } ?? "none"
            return left == right ? nil : (key, left, right)
        }
        return walk(a, b, "optimizer").map { (field: $0.0, mine: $0.1, theirs: $0.2) }
    }
}
