import NeuroODE

/// A loss over a ``TrialBatchedSystem`` that is a sum of per-trial terms,
///
///     Φ(Q, Y, θ_L) = Σ_b φ_b(Q_·b, Y_·b, θ_L),
///
/// so that it splits into losses over trial ranges whose values and gradients (with respect to
/// their trials' Q and Y, and to the shared θ_L) add up to its own. A mean over trials is such a
/// sum: its parts keep the whole batch's divisor.
public protocol TrialSeparableLoss: TaskLoss {
    /// The number of trials the loss scores; BPTT splits it only along a system with as many.
    var trialCount: Int { get }
    /// The terms of trials `range` alone, seeing the states of the part of the system that
    /// simulates those trials (its integrands and observations in that part's layout).
    func restricted(toTrials range: Range<Int>) throws(ODEError) -> Self
}
