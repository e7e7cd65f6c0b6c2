/// How a ``Trainer`` runs: length, seed, learning-rate schedule, early stopping, evaluation and
/// checkpoint cadence, and what it does when an iteration fails (README "Reliability: limits, threads, interruption").
public struct TrainerConfiguration: Sendable, Codable, Equatable {
    /// Total iterations, counted from 0 across every session of a resumed run.
    public var iterations: Int
    /// Seeds θ's initialization, every iteration's minibatch and the held-out set.
    public var seed: UInt64
    /// Evaluate the held-out metric every this many iterations (and at the last one).
    public var evaluationInterval: Int
    /// Rescale gradients longer than this before the update (nil: never). SCIENCE.md: 10 for BPTT.
    public var maxGradientNorm: Double?
    /// Save a checkpoint (on disk if a directory is given, in memory as the rollback point either
    /// way) every this many iterations.
    public var checkpointInterval: Int
    /// Failed iterations in a row that trigger a rollback to the last good state.
    public var failuresBeforeRollback: Int
    /// Rollbacks allowed before training stops with ``TrainerError/diverged(iteration:rollbacks:lastFailure:)``.
    public var maximumRollbacks: Int
    /// The factor applied to the learning rate at each rollback.
    public var learningRateFactor: Double
    /// The learning rate per iteration, from the optimizer's own as η₀. Part of the run's identity.
    public var learningRateSchedule: LearningRateSchedule
    /// The typical size of each entry of θ (nil: 1 for every entry). The optimizer, clipping
    /// included, then works on u = θ / scale, with gradient scale ∘ ∇θL, so that one learning rate
    /// suits entries of different sizes (a time constant of 12 beside a rate of 0.7); a
    /// ``ForwardOnlyMethod`` (ES) perturbs u, so its σ is relative too. The log's gradient norms
    /// are u's. Part of the run's identity.
    public var parameterScale: [Double]?
    /// When to stop before `iterations` (nil: never). Not part of the run's identity: a resumed
    /// run may stop earlier or later than the first session would have.
    public var earlyStopping: EarlyStopping?

    /// A configuration; ``validate()`` checks it (the ``Trainer`` does so before every run).
    public init(
        iterations: Int, seed: UInt64 = 0, evaluationInterval: Int = 10, maxGradientNorm: Double? = nil,
        checkpointInterval: Int = 10, failuresBeforeRollback: Int = 3, maximumRollbacks: Int = 5,
        learningRateFactor: Double = 0.5, learningRateSchedule: LearningRateSchedule = .constant,
        parameterScale: [Double]? = nil, earlyStopping: EarlyStopping? = nil
    ) {
        self.iterations = iterations
        self.seed = seed
        self.evaluationInterval = evaluationInterval
        self.maxGradientNorm = maxGradientNorm
        self.checkpointInterval = checkpointInterval
        self.failuresBeforeRollback = failuresBeforeRollback
        self.maximumRollbacks = maximumRollbacks
        self.learningRateFactor = learningRateFactor
        self.learningRateSchedule = learningRateSchedule
        self.parameterScale = parameterScale
        self.earlyStopping = earlyStopping
    }

    /// Checks every count and factor, naming the bad one.
    public func validate() throws(TrainingError) {
        let counts = [("iterations", iterations), ("evaluationInterval", evaluationInterval),
                      ("checkpointInterval", checkpointInterval), ("failuresBeforeRollback", failuresBeforeRollback)]
        for (name, value) in counts where value < 1 {
            throw .invalidOption(name: name, value: "\(value)", reason: "must be at least 1")
        }
        guard maximumRollbacks >= 0 else {
            throw .invalidOption(name: "maximumRollbacks", value: "\(maximumRollbacks)", reason: "must not be negative")
        }
        if let limit = maxGradientNorm, !(limit.isFinite && limit > 0) {
            throw .invalidOption(name: "maxGradientNorm", value: "\(limit)", reason: "must be finite and positive")
        }
        guard learningRateFactor > 0, learningRateFactor < 1 else {
            throw .invalidOption(name: "learningRateFactor", value: "\(learningRateFactor)", reason: "must lie strictly between 0 and 1")
        }
        try learningRateSchedule.validate()
        if let scale = parameterScale, let index = scale.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw .invalidOption(name: "parameterScale[\(index)]", value: "\(scale[index])", reason: "must be finite and positive")
        }
        try earlyStopping?.validate()
    }
}
