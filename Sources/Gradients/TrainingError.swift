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
    /// The method cannot differentiate through the events (state resets, ``EventSystem``) of the
    /// model, so it refuses before computing anything rather than return a wrong gradient.
    case eventsUnsupported(model: String, method: String)
    /// The full adjoint's backsolve left the forward trajectory: at `time` the reconstructed state
    /// was `drift` away from the forward one, relative to 1 + ‖y_forward‖ (∞: it became non-finite),
    /// past `tolerance` (``AdjointMethod/driftTolerance``).
    case backsolveDiverged(model: String, time: Double, drift: Double, tolerance: Double)
    /// A sample or batch part computed by another rank of an MPI job failed; `reason` is that
    /// rank's description of the failure (README "Beyond one machine: MPI").
    case failedOnRank(rank: Int, reason: String)

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
        case let .eventsUnsupported(model, method):
            return "\(method) cannot differentiate through the events (state resets) of \(model), so it refuses rather than "
                + "return a wrong gradient; use a method that handles them (see README, \"Gradients through events\") or es or fd"
        case let .backsolveDiverged(model, time, drift, tolerance):
            let what = drift.isFinite
                ? "relative drift \(drift) at t = \(time) exceeds the tolerance \(tolerance)"
                : "the backward integration blew up (non-finite or stalled) at t = \(time)"
            return "the full adjoint's backsolve of \(model) diverged from the forward trajectory: \(what), so its "
                + "gradient would be wrong; use adjoint-partial or bptt (or allow the drift explicitly to inspect it)"
        case let .failedOnRank(rank, reason):
            return "on rank \(rank): \(reason)"
        }
    }
}
