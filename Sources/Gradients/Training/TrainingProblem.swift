import Foundation
import NeuroODE

/// A benchmark training problem: a ``TrainingTaskSource`` with the configuration it was built
/// from, what counts as solving it and the settings SCIENCE.md prescribes for it.
///
/// Problems come in a small configuration (about two minutes of training on two cores) and the
/// paper's, both as values of their own `Configuration`, so a results file can record every
/// setting that shaped a run. ``Trainer`` reads none of this: it trains any
/// ``TrainingTaskSource``, a single ``TrainingTask`` included.
public protocol TrainingProblem: TrainingTaskSource {
    associatedtype Configuration: Codable & Sendable & Equatable

    var configuration: Configuration { get }
    /// What counts as solving the problem.
    var target: TrainingTarget { get }
    /// The optimizer and method settings SCIENCE.md prescribes for this problem and size.
    var defaults: TrainingDefaults { get }
}

extension TrainingProblem {
    /// The configuration as JSON with sorted keys.
    public func settingsDescription() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(configuration), as: UTF8.self)
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
