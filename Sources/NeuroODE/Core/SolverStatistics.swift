/// Work counters of one solve. Fields an integrator does not have stay zero (a fixed-step scheme
/// rejects no steps and evaluates no Jacobian).
public struct SolverStatistics: Sendable, Equatable, Codable {
    public var steps = 0
    /// Steps rejected by the error test.
    public var rejectedSteps = 0
    public var rightHandSideEvaluations = 0
    public var jacobianEvaluations = 0
    public var nonlinearIterations = 0
    /// Nonlinear solver convergence failures (CVODE).
    public var convergenceFailures = 0
    public var linearSolverSetups = 0
    /// Root-function evaluations (CVODE) or event checks.
    public var eventFunctionEvaluations = 0
    /// Events that fired.
    public var events = 0

    public init() {}
}
