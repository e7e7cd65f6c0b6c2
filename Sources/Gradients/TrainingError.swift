/// Failures of gradient evaluation and training that are not simulation errors (those are
/// `ODEError`s and pass through unchanged).
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The loss evaluated to NaN or ±∞.
    case nonFiniteLoss(Double)
    /// More than half of an ES generation failed to simulate.
    case tooManyFailedSamples(failed: Int, total: Int, firstError: String)
    /// A method option out of range (σ ≤ 0, an odd mirrored sample count, ...).
    case invalidOption(name: String, value: String, reason: String)
    /// The method cannot be used on this task (BPTT without VJPs, say).
    case unsupported(String)

    public var description: String {
        switch self {
        case let .nonFiniteLoss(value):
            return "the loss is not finite (\(value))"
        case let .tooManyFailedSamples(failed, total, firstError):
            return "\(failed) of \(total) ES samples failed to simulate (first: \(firstError))"
        case let .invalidOption(name, value, reason):
            return "invalid \(name) = \(value): \(reason)"
        case let .unsupported(reason):
            return reason
        }
    }
}
