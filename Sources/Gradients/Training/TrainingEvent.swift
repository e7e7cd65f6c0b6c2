import Foundation

/// What a ``Trainer`` reports while it runs. The library prints nothing itself: a command line
/// turns these into progress lines, a test ignores them or collects them.
public enum TrainingEvent: Sendable {
    /// An iteration finished. `rate` is iterations per second over this session, `remaining` the
    /// estimated seconds left.
    case iteration(TrainingRecord, of: Int, rate: Double, remaining: Double)
    /// An update was skipped because the loss or gradient was not finite or the simulation failed.
    case skipped(iteration: Int, reason: String)
    /// Too many failures in a row: θ and the optimizer went back to the state saved after
    /// `restoredIteration`, and the learning rate was lowered.
    case rolledBack(iteration: Int, restoredIteration: Int, learningRate: Double)
    /// A checkpoint was written.
    case checkpointSaved(path: String, iteration: Int)
    /// A checkpoint file could not be used; resuming falls back to an older one.
    case checkpointRejected(path: String, reason: String)
    /// Training continues from a checkpoint.
    case resumed(path: String, iteration: Int)
    /// ``EarlyStopping`` ended the run before its iteration count.
    case stoppedEarly(EarlyStopping.Reason)

    /// One line for people.
    public var message: String {
        switch self {
        case let .iteration(record, total, rate, remaining):
            let eta = remaining.isFinite ? formatDuration(remaining) : "?"
            return "iteration \(record.iteration + 1)/\(total)  loss \(shortNumber(record.loss))  \(shortNumber(rate)) it/s  ETA \(eta)"
        case let .skipped(iteration, reason):
            return "iteration \(iteration + 1): update skipped: \(reason)"
        case let .rolledBack(iteration, restored, rate):
            return "iteration \(iteration + 1): repeated failures; restored the state after iteration \(restored) and halved the learning rate to \(shortNumber(rate))"
        case let .checkpointSaved(path, iteration):
            return "checkpoint after iteration \(iteration): \(path)"
        case let .checkpointRejected(path, reason):
            return "checkpoint \(path) is unusable (\(reason)); falling back to an older one"
        case let .resumed(path, iteration):
            return "resuming from \(path) after iteration \(iteration)"
        case let .stoppedEarly(reason):
            return "stopped early: \(reason)"
        }
    }
}

/// Four significant digits, for progress lines.
func shortNumber(_ value: Double) -> String {
    String(format: "%.4g", value)
}

/// "1h02m", "3m05s", "12.3s".
func formatDuration(_ seconds: Double) -> String {
    if seconds < 60 { return String(format: "%.1fs", seconds) }
    let total = Int(seconds.rounded())
    if total < 3600 { return "\(total / 60)m" + String(format: "%02ds", total % 60) }
    return "\(total / 3600)h" + String(format: "%02dm", total % 3600 / 60)
}
