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

    /// An identity from its fields (``Trainer`` builds its own from its problem, method and settings).
    public init(
        problem: String, configuration: String, method: String, methodSettings: String, optimizer: String,
        seed: UInt64, parameterCount: Int, maxGradientNorm: Double?
    ) {
        self.problem = problem
        self.configuration = configuration
        self.method = method
        self.methodSettings = methodSettings
        self.optimizer = optimizer
        self.seed = seed
        self.parameterCount = parameterCount
        self.maxGradientNorm = maxGradientNorm
    }

    /// The first field that differs from `other`, with both values.
    func firstDifference(from other: TrainingRunIdentity) -> (field: String, mine: String, theirs: String)? {
        let fields: [(String, String, String)] = [
            ("problem", problem, other.problem), ("configuration", configuration, other.configuration),
            ("method", method, other.method), ("method settings", methodSettings, other.methodSettings),
            ("optimizer", optimizer, other.optimizer), ("seed", "\(seed)", "\(other.seed)"),
            ("parameter count", "\(parameterCount)", "\(other.parameterCount)"),
            ("gradient clip", "\(maxGradientNorm.map { "\($0)" } ?? "none")", "\(other.maxGradientNorm.map { "\($0)" } ?? "none")"),
        ]
        return fields.first { $0.1 != $0.2 }.map { (field: $0.0, mine: $0.1, theirs: $0.2) }
    }
}
