import NeuroODE

/// A scalar loss of a flat parameter vector, evaluated by a forward simulation only.
///
/// Forward-only gradient methods (evolution strategies, finite differences) need nothing more;
/// every training task is an objective. `loss(at:)` must be safe to call from several threads at
/// once, which value-type tasks are by construction.
public protocol Objective: Sendable {
    /// Number of entries of the parameter vector.
    var parameterCount: Int { get }
    /// The loss at θ. Throws when the simulation fails (solver error, non-finite state).
    func loss(at parameters: [Double]) throws -> Double
    /// The loss at θ with the right-hand-side evaluations its forward solve took, so that
    /// forward-only methods report their true cost.
    func evaluate(at parameters: [Double]) throws -> ObjectiveEvaluation
}

extension Objective {
    /// For objectives that are not simulations (test functions): no right-hand side is evaluated.
    public func evaluate(at parameters: [Double]) throws -> ObjectiveEvaluation {
        ObjectiveEvaluation(loss: try loss(at: parameters), rightHandSideEvaluations: 0)
    }
}

/// One evaluation of an ``Objective``.
public struct ObjectiveEvaluation: Sendable {
    /// L(θ).
    public var loss: Double
    /// Right-hand-side evaluations the forward solve took.
    public var rightHandSideEvaluations: Int

    /// An evaluation from its loss and cost.
    public init(loss: Double, rightHandSideEvaluations: Int) {
        self.loss = loss
        self.rightHandSideEvaluations = rightHandSideEvaluations
    }
}

/// What a gradient method returns: the loss at θ, the gradient (or an estimate of it), and what
/// it cost, so that methods can be compared honestly.
public struct GradientEstimate: Sendable {
    /// L(θ) (for ES: at θ itself, not smoothed).
    public var loss: Double
    /// ∇L(θ) over the task's trainable parameters, or ES's estimate of the smoothed loss's gradient.
    public var gradient: [Double]
    /// What the evaluation cost.
    public var report: GradientReport
    /// The entries of θ this estimate may update (ascending, disjoint ranges), or `nil` for all.
    /// Methods that train some parameter groups only (``HybridEvolutionStrategy``: frozen groups,
    /// the groups off turn in an alternation) leave the others, and their optimizer state, as
    /// they are.
    public var updatedEntries: [Range<Int>]?

    /// An estimate from its parts.
    public init(loss: Double, gradient: [Double], report: GradientReport) {
        self.loss = loss
        self.gradient = gradient
        self.report = report
    }
}

/// Cost counters of one gradient evaluation.
public struct GradientReport: Sendable, Codable, Equatable {
    /// Bytes of forward state kept for the backward pass (trajectory, checkpoints, samples).
    public var bytesStored = 0
    /// Forward simulations run (ES samples, finite-difference probes).
    public var forwardSolves = 0
    /// Right-hand-side evaluations, forward and backward.
    public var rightHandSideEvaluations = 0
    /// Pullbacks through the right-hand side (each a vector–Jacobian product).
    public var vectorJacobianProducts = 0
    /// Samples whose simulation failed and were ranked worst or dropped (ES).
    public var failedSamples = 0
    /// Wall-clock seconds.
    public var wallTime = 0.0
    /// Full adjoint only: ‖y_backward(t) − y_forward(t)‖₂ at diagnostic times, from T down to t₀.
    public var drift: [DriftSample] = []
    /// Adjoints asked to record it: the running parameter gradient at diagnostic times, from T down
    /// to t₀ (see ``AdjointMethod/recordsRunningGradient``).
    public var runningGradient: [RunningGradientSample] = []

    /// All counters zero and no diagnostics.
    public init() {}
}

/// How far the backsolve adjoint's reconstructed state has drifted from the forward one at `time`.
public struct DriftSample: Sendable, Codable, Equatable {
    /// The diagnostic time.
    public var time: Double
    /// ‖y_backward(t) − y_forward(t)‖₂ there.
    public var distance: Double
    /// The distance relative to 1 + ‖y_forward(t)‖₂, the measure ``AdjointMethod/driftTolerance`` bounds.
    public var relativeDistance: Double
}

/// The adjoint's parameter quadrature g(t) = ∫ₜᵀ λᵀ∂f/∂θ ds over the trained system parameters at
/// `time`: the part of the gradient collected between `time` and the end of the horizon.
public struct RunningGradientSample: Sendable, Codable, Equatable {
    /// The diagnostic time.
    public var time: Double
    /// g(t), one entry per trained system parameter.
    public var gradient: [Double]
}
