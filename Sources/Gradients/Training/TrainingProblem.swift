import NeuroODE

/// A benchmark training problem: everything a training loop needs besides the gradient method and
/// the optimizer.
///
/// A problem is a family of ``TrainingTask``s indexed by iteration: stochastic problems resample
/// their minibatch from (seed, iteration), so any iteration's task can be rebuilt on its own and a
/// resumed run sees exactly the data an uninterrupted one would. θ is the trained vector of those
/// tasks (trained system parameters, then loss parameters); every iteration's task shares its
/// layout, so θ carries over from one minibatch to the next.
///
/// Problems come in a small configuration (about two minutes of training on two cores) and the
/// paper's, both as values of their own `Configuration`, so a results file can record every
/// setting that shaped a run.
public protocol TrainingProblem: Sendable {
    associatedtype System: ODESystem
    associatedtype Stepper: Integrator
    associatedtype Loss: TaskLoss
    associatedtype Configuration: Codable & Sendable & Equatable

    /// Name used on the command line and in result files.
    var name: String { get }
    var configuration: Configuration { get }
    /// Names of θ's entries.
    var parameterNames: [String] { get }
    /// θ at its seeded initialization.
    func initialParameters(seed: UInt64) throws -> [Double]
    /// The task of one iteration (its minibatch drawn from `seed` and `iteration`).
    func task(iteration: Int, seed: UInt64) throws -> TrainingTask<System, Stepper, Loss>
    /// The held-out metric, if the problem has one (nil: the training loss is the only measure).
    var testMetric: TestMetric? { get }
    /// The held-out metric at θ. Only called when ``testMetric`` is non-nil.
    func evaluateTestMetric(at theta: [Double], seed: UInt64) throws -> Double
    /// What counts as solving the problem.
    var target: TrainingTarget { get }
    /// The optimizer and method settings SCIENCE.md prescribes for this problem and size.
    var defaults: TrainingDefaults { get }
}

extension TrainingProblem {
    /// Default: no held-out metric.
    public var testMetric: TestMetric? { nil }
    /// Default: throws `TrainingError.unsupported`, as there is no held-out metric.
    public func evaluateTestMetric(at theta: [Double], seed: UInt64) throws -> Double {
        throw TrainingError.unsupported("\(name) has no held-out metric")
    }
}

/// A held-out measure of a parameter vector: its name in result files and which way is better.
public struct TestMetric: Sendable, Codable, Equatable {
    /// The metric's name in logs and result files (for example `test_accuracy`).
    public var name: String
    /// Whether larger values are better (accuracy) rather than smaller (error).
    public var higherIsBetter: Bool

    /// A metric named `name`, better when higher if `higherIsBetter`.
    public init(name: String, higherIsBetter: Bool) {
        self.name = name
        self.higherIsBetter = higherIsBetter
    }
}

/// The level at which a problem counts as solved, on the training loss or on the held-out metric.
public struct TrainingTarget: Sendable, Codable, Equatable {
    /// Which logged quantity the target applies to.
    public enum Quantity: String, Sendable, Codable {
        /// The training loss, measured at θ before each update.
        case loss
        /// The held-out metric, on the iterations where it is evaluated.
        case testMetric
    }

    /// The logged quantity compared with `threshold`.
    public var quantity: Quantity
    /// The level that counts as solved.
    public var threshold: Double
    /// Whether the quantity must rise to the threshold (accuracy) rather than fall below it (loss).
    public var higherIsBetter: Bool

    /// A target on `quantity` at `threshold`.
    public init(quantity: Quantity, threshold: Double, higherIsBetter: Bool) {
        self.quantity = quantity
        self.threshold = threshold
        self.higherIsBetter = higherIsBetter
    }

    /// Whether a record reaches the target (a record without the quantity does not).
    public func isReached(by record: TrainingRecord) -> Bool {
        let value = quantity == .loss ? record.loss : record.testMetric
        guard let value, value.isFinite else { return false }
        return higherIsBetter ? value >= threshold : value < threshold
    }
}

/// Per-problem defaults of the training loop and of the forward-only method.
public struct TrainingDefaults: Sendable, Codable {
    /// The default update rule and learning rate.
    public var optimizer: OptimizerChoice
    /// The default number of iterations.
    public var iterations: Int
    /// Evaluate the held-out metric every this many iterations (and at the last).
    public var evaluationInterval: Int
    /// ES samples per iteration and perturbation scale σ in θ's units.
    public var samples: Int
    /// ES's default perturbation scale σ, in θ's units.
    public var sigma: Double

    /// Defaults from their values.
    public init(optimizer: OptimizerChoice, iterations: Int, evaluationInterval: Int, samples: Int, sigma: Double) {
        self.optimizer = optimizer
        self.iterations = iterations
        self.evaluationInterval = evaluationInterval
        self.samples = samples
        self.sigma = sigma
    }
}
