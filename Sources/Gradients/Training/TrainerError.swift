/// Why a training run stopped or could not resume.
public enum TrainerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Failures kept coming after `rollbacks` rollbacks, each with a lower learning rate.
    case diverged(iteration: Int, rollbacks: Int, lastFailure: String)
    /// A checkpoint file is unreadable, truncated, fails its checksum or does not decode.
    case corruptCheckpoint(path: String, reason: String)
    /// A checkpoint was written by a run with other settings (problem, method, seed, ...).
    case checkpointMismatch(path: String, field: String, expected: String, found: String)
    /// Checkpoint files exist but none can be used.
    case noUsableCheckpoint(directory: String, reasons: [String])
    /// The checkpoint directory or file could not be written.
    case cannotWriteCheckpoint(path: String, reason: String)

    public var description: String {
        switch self {
        case let .diverged(iteration, rollbacks, lastFailure):
            return "training diverged at iteration \(iteration + 1): still failing after \(rollbacks) rollbacks with a halved learning rate (last failure: \(lastFailure))"
        case let .corruptCheckpoint(path, reason):
            return "checkpoint \(path) is corrupt: \(reason)"
        case let .checkpointMismatch(path, field, expected, found):
            return "checkpoint \(path) belongs to another run: \(field) is \(found), this run has \(expected)"
        case let .noUsableCheckpoint(directory, reasons):
            return "no usable checkpoint in \(directory): \(reasons.joined(separator: "; "))"
        case let .cannotWriteCheckpoint(path, reason):
            return "cannot write checkpoint \(path): \(reason)"
        }
    }
}
