/// When a ``Trainer`` (or ``CMAESTrainer``) stops before its iteration count: at a target, or when
/// the monitored quantity has not improved for `patience` iterations.
///
/// The decision is a function of the log alone, checked after every iteration, so a resumed run
/// stops exactly where an uninterrupted one does. The run's last ``TrainingRecord`` holds the
/// quantity that triggered the stop, measured (like every record's) at θ before that iteration's
/// update. An iteration that reaches the target makes no update, so the returned θ is the one
/// that reached it; after a stop for lack of improvement it is θ after the last update.
public struct EarlyStopping: Sendable, Codable, Equatable {
    /// Stop at the first record that reaches this target (nil: no target).
    public var target: TrainingTarget?
    /// The quantity that must keep improving: the training loss, or the held-out metric on the
    /// iterations where it is evaluated (better when the source's ``TestMetric`` says so).
    public var monitor: TrainingTarget.Quantity
    /// Stop once this many iterations have passed since the monitored quantity last improved
    /// (nil: never stop for lack of improvement).
    public var patience: Int?
    /// How much better than the best so far a value must be to count as an improvement, in the
    /// quantity's units.
    public var minimumImprovement: Double

    /// Early stopping at `target`, or after `patience` iterations without an improvement of
    /// `minimumImprovement` in `monitor`.
    public init(target: TrainingTarget? = nil, monitor: TrainingTarget.Quantity = .loss, patience: Int? = nil, minimumImprovement: Double = 0) {
        self.target = target
        self.monitor = monitor
        self.patience = patience
        self.minimumImprovement = minimumImprovement
    }

    /// Why a run stopped early.
    public enum Reason: Sendable, Codable, Equatable, CustomStringConvertible {
        /// The record of `iteration` reached the target.
        case targetReached(iteration: Int)
        /// No improvement since the record of `bestIteration`, `patience` iterations before.
        case noImprovement(bestIteration: Int, patience: Int)

        public var description: String {
            switch self {
            case let .targetReached(iteration): "target reached at iteration \(iteration + 1)"
            case let .noImprovement(best, patience): "no improvement in \(patience) iterations since iteration \(best + 1)"
            }
        }
    }

    /// Checks the numbers, naming the bad one.
    public func validate() throws(TrainingError) {
        if let patience, patience < 1 {
            throw .invalidOption(name: "patience", value: "\(patience)", reason: "must be at least 1")
        }
        guard minimumImprovement.isFinite, minimumImprovement >= 0 else {
            throw .invalidOption(name: "minimumImprovement", value: "\(minimumImprovement)", reason: "must be finite and not negative")
        }
        if let threshold = target?.threshold, !threshold.isFinite {
            throw .invalidOption(name: "target", value: "\(threshold)", reason: "must be finite")
        }
    }

    /// Whether the run whose records are `log` stops now, and why. `higherIsBetter` orders the
    /// held-out metric (the training loss is always better lower). Non-finite values never count
    /// as improvements.
    public func reason(toStop log: [TrainingRecord], higherIsBetter: Bool) -> Reason? {
        guard let last = log.last else { return nil }
        if let target, target.isReached(by: last) { return .targetReached(iteration: last.iteration) }
        guard let patience else { return nil }
        let sign = monitor == .testMetric && higherIsBetter ? -1.0 : 1.0
        var best: (iteration: Int, value: Double)?
        for record in log {
            guard let value = (monitor == .loss ? record.loss : record.testMetric).map({ sign * $0 }), value.isFinite else { continue }
            if best.map({ value < $0.value - minimumImprovement }) ?? true { best = (record.iteration, value) }
        }
        let since = best?.iteration ?? log[0].iteration
        return last.iteration - since >= patience ? .noImprovement(bestIteration: since, patience: patience) : nil
    }
}
