import NeuroODE

/// An integrator whose steps BPTT can differentiate: it states its step grid and builds the
/// ``DiscreteForwardMap`` of its own steps (forward step and pullback, each defined once, by the
/// scheme), and says what the map needs of a system.
///
/// BPTT (``BackpropagationThroughTime``, and the event gradients of ``EventGradient``) dispatches
/// on this capability alone, so a new fixed-step or Runge–Kutta scheme is one conformance: its
/// map, its grid and these properties. `Leapfrog` and `DormandPrince` conform.
public protocol DifferentiableStepper: Integrator {
    /// The times a solve of `problem` steps through (t₀ … T), with the loss's `observationTimes`
    /// added where the scheme can take a step to them (an adaptive scheme's replay can; a
    /// fixed-step scheme observes its own grid).
    func stepGrid<System: ODESystem>(for problem: ODEProblem<System>, observationTimes: [Double]) throws -> [Double]

    /// The map of this scheme's steps on `grid` (from ``stepGrid(for:observationTimes:)``, or the
    /// steps of one smooth piece between two events). Throws ``TrainingError/unsupported(_:)`` when
    /// `problem.system` lacks the derivatives the pullback needs.
    func forwardMap<System: ODESystem>(for problem: ODEProblem<System>, grid: [Double]) throws -> any DiscreteForwardMap

    /// Whether the pullback needs only vector–Jacobian products of the right-hand side, so that a
    /// system without them can be given them by finite differences (``FiniteDifferenceVJPSystem``).
    var pullsBackThroughRightHandSide: Bool { get }

    /// Whether the grid is fixed before the solve (independent of the state), so a batch of
    /// independent trials cut into parts takes the same steps in every part (otherwise each part
    /// records its own).
    var hasFixedGrid: Bool { get }

    /// Whether the scheme locates each event inside its step and restarts there, recording the
    /// pre-event state at the event time: then event times move smoothly with θ and BPTT carries
    /// the gradient across each reset (``EventGradient``).
    var locatesEvents: Bool { get }

    /// Whether the scheme's discrete loss sums running costs over its own steps (the leapfrog's
    /// trapezoid sum, the paper's loss) rather than integrating them as quadrature state.
    var sumsRunningCostsOverSteps: Bool { get }
}
