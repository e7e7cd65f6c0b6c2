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
    /// What went wrong or was done beyond a plain update (a skip, a rollback), for the log.
    public var event: String?

    /// A record from its fields (the ``Trainer`` fills them).
    public init(
        iteration: Int, wallTime: Double, loss: Double, testMetric: Double?, gradientNorm: Double,
        learningRate: Double, bytesStored: Int, peakBytes: Int?, event: String?
    ) {
        self.iteration = iteration
        self.wallTime = wallTime
        self.loss = loss
        self.testMetric = testMetric
        self.gradientNorm = gradientNorm
        self.learningRate = learningRate
        self.bytesStored = bytesStored
        self.peakBytes = peakBytes
        self.event = event
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
            && a.bytesStored == b.bytesStored && a.peakBytes == b.peakBytes && a.event == b.event
    }
}
