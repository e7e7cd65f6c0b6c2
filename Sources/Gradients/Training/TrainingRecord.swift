/// One row of a training log: what one iteration saw and did.
///
/// `loss` and `testMetric` are measured at θ before the iteration's update. Everything but
/// `wallTime` and `peakBytes` is a deterministic function of the seed, so two runs with the same
/// seed — one of them interrupted and resumed — have equal logs once those two are set aside
/// (``deterministicPart``).
public struct TrainingRecord: Sendable, Codable, Equatable {
    /// The iteration's index, counted from 0.
    public var iteration: Int
    /// Seconds since training began, summed over every session of a resumed run.
    public var wallTime: Double
    /// The training loss at θ (NaN when the iteration failed).
    public var loss: Double
    /// The held-out metric at θ, on the iterations where it was evaluated.
    public var testMetric: Double?
    /// ‖g‖₂ before clipping (NaN when the gradient was not finite or not computed).
    public var gradientNorm: Double
    /// The learning rate the iteration's update used (or would have used).
    public var learningRate: Double
    /// Bytes of forward state the gradient method kept (its own count).
    public var bytesStored: Int
    /// Peak resident memory the gradient evaluation added, measured by the kernel (nil: unknown).
    public var peakBytes: Int?
    /// What the iteration did with θ; reports count skips and rollbacks from this.
    public var outcome: Outcome
    /// What went wrong or was done beyond a plain update (a skip, a rollback), in words, for the
    /// log's text outputs.
    public var event: String?

    /// What one iteration did with θ.
    public enum Outcome: String, Sendable, Codable, CaseIterable {
        /// θ was updated (a failed held-out evaluation does not change this).
        case updated
        /// The update was skipped: the loss, gradient or simulation failed (for CMA-ES, too many
        /// samples failed and σ was halved).
        case skipped
        /// The update was skipped and the failure was one too many in a row: θ and the optimizer
        /// went back to the last good checkpoint and the learning rate was lowered.
        case rolledBack
        /// The loss met the early-stopping target, so θ was kept as the result.
        case keptAtTarget
    }

    /// Whether the iteration skipped its update (a rollback is a skip followed by the restore).
    public var skippedUpdate: Bool { outcome == .skipped || outcome == .rolledBack }

    /// A record from its fields (the ``Trainer`` fills them).
    public init(
        iteration: Int, wallTime: Double, loss: Double, testMetric: Double?, gradientNorm: Double,
        learningRate: Double, bytesStored: Int, peakBytes: Int?, outcome: Outcome = .updated, event: String?
    ) {
        self.iteration = iteration
        self.wallTime = wallTime
        self.loss = loss
        self.testMetric = testMetric
        self.gradientNorm = gradientNorm
        self.learningRate = learningRate
        self.bytesStored = bytesStored
        self.peakBytes = peakBytes
        self.outcome = outcome
        self.event = event
    }

    private enum CodingKeys: String, CodingKey {
        case iteration, wallTime, loss, testMetric, gradientNorm, learningRate, bytesStored, peakBytes, outcome, event
    }

    /// Decodes a record; a log written before records carried their ``outcome`` (checkpoints of
    /// runs begun with an older version) gets it from the event text those versions wrote.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        iteration = try container.decode(Int.self, forKey: .iteration)
        wallTime = try container.decode(Double.self, forKey: .wallTime)
        loss = try container.decode(Double.self, forKey: .loss)
        testMetric = try container.decodeIfPresent(Double.self, forKey: .testMetric)
        gradientNorm = try container.decode(Double.self, forKey: .gradientNorm)
        learningRate = try container.decode(Double.self, forKey: .learningRate)
        bytesStored = try container.decode(Int.self, forKey: .bytesStored)
        peakBytes = try container.decodeIfPresent(Int.self, forKey: .peakBytes)
        event = try container.decodeIfPresent(String.self, forKey: .event)
        if let outcome = try container.decodeIfPresent(Outcome.self, forKey: .outcome) {
            self.outcome = outcome
        } else {
            let text = event ?? ""
            outcome = text.contains("rolled back") ? .rolledBack
                : text.contains("skipped") ? .skipped : text.contains("target reached") ? .keptAtTarget : .updated
        }
    }

    /// The record without its timing-dependent fields, for comparing runs bit for bit.
    public var deterministicPart: TrainingRecord {
        var copy = self
        copy.wallTime = 0
        copy.peakBytes = nil
        return copy
    }

    /// Equality that treats NaN as equal to NaN (bit-identical comparison of logs).
    public static func == (a: TrainingRecord, b: TrainingRecord) -> Bool {
        a.iteration == b.iteration && a.wallTime.bitPattern == b.wallTime.bitPattern
            && a.loss.bitPattern == b.loss.bitPattern && a.testMetric?.bitPattern == b.testMetric?.bitPattern
            && a.gradientNorm.bitPattern == b.gradientNorm.bitPattern && a.learningRate.bitPattern == b.learningRate.bitPattern
            && a.bytesStored == b.bytesStored && a.peakBytes == b.peakBytes && a.outcome == b.outcome && a.event == b.event
    }
}
