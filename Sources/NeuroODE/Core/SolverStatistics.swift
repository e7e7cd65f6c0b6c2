/// Work counters of one solve. Fields an integrator does not have stay zero (a fixed-step scheme
/// rejects no steps and evaluates no Jacobian).
public struct SolverStatistics: Sendable, Equatable, Codable {
    /// Accepted steps.
    public var steps = 0
    /// Steps rejected by the error test.
    public var rejectedSteps = 0
    /// Evaluations of the right-hand side f(t, y) (including those for difference-quotient Jacobians).
    public var rightHandSideEvaluations = 0
    /// Jacobian evaluations (CVODE, analytic or by difference quotients).
    public var jacobianEvaluations = 0
    /// Newton iterations of the implicit stage equations (CVODE).
    public var nonlinearIterations = 0
    /// Nonlinear solver convergence failures (CVODE).
    public var convergenceFailures = 0
    /// Setups (factorizations) of the linear solver's Newton matrix (CVODE).
    public var linearSolverSetups = 0
    /// Root-function evaluations (CVODE) or event checks.
    public var eventFunctionEvaluations = 0
    /// Events that fired.
    public var events = 0

    /// All counters zero.
    public init() {}
}
