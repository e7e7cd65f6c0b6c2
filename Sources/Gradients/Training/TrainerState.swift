/// Everything a training run carries from one iteration to the next — and so everything a
/// checkpoint holds. Restoring it and continuing gives the same log and θ, bit for bit, as never
/// having stopped (wall times aside).
public struct TrainerState<Base: Optimizer>: Sendable, Codable {
    /// θ and the optimizer at a point training can return to.
    public struct Snapshot: Sendable, Codable {
        /// Iterations completed when the snapshot was taken.
        public var iteration: Int
        public var parameters: [Double]
        public var optimizer: SafeguardedOptimizer<Base>
    }

    public var identity: TrainingRunIdentity
    /// The next iteration to run (= iterations completed).
    public var nextIteration: Int
    public var parameters: [Double]
    public var optimizer: SafeguardedOptimizer<Base>
    public var log: [TrainingRecord]
    /// Wall-clock seconds spent training, over every session.
    public var elapsed: Double
    /// Failed iterations since the last successful update.
    public var consecutiveFailures: Int
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
    public var problem: String
    /// The problem's configuration, as JSON.
    public var configuration: String
    public var method: String
    /// The method's settings in words, as the caller describes them.
    public var methodSettings: String
    public var optimizer: String
    public var seed: UInt64
    public var parameterCount: Int
    public var maxGradientNorm: Double?

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
