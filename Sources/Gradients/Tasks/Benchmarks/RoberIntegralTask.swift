import NeuroODE

/// SCIENCE.md's `rober-integral` task, SUNDIALS' `cvsRoberts_ASAi_dns` example: ROBER from
/// y(0) = (1, 0, 0), loss G = ∫₀^T y₃ dt, trained parameters k1, k2, k3 (SCIENCE.md naming: k2 = 3·10⁷
/// multiplies y₂², k3 = 10⁴ multiplies y₂y₃ — the example calls them p3 and p2).
///
/// The default integrator is the example's: CVODE BDF with rtol = 1e-6 and the absolute
/// tolerances (1e-8, 1e-14, 1e-6) for (y₁, y₂, y₃). y₂ stays below 4·10⁻⁵, hence its tiny atol.
/// The example's other settings — a checkpoint every 150 steps, quadrature tolerance 1e-6 for G
/// and for the gradient, adjoint tolerance 1e-8 — are the defaults of `CVODESAdjoint.Options`,
/// which ``AdjointMethod`` uses for the partial adjoint of a CVODE task. At T = 4·10⁷ the example
/// reports G = 3.9983·10⁷ and dG/d(k1, k3, k2) = (7.6842·10⁵, −3.0691, 5.1144·10⁻⁴).
public enum RoberIntegralTask {
    /// The example's forward integrator.
    public static let integrator = CVODE(
        method: .bdf, relativeTolerance: 1e-6, absoluteTolerances: [1e-8, 1e-14, 1e-6])

    /// The task with the example's integrator.
    public static func make(
        horizon: Double = 4e7, parameters: [Double]? = nil
    ) throws(ODEError) -> TrainingTask<Rober, CVODE, StateIntegralLoss> {
        try make(horizon: horizon, integrator: RoberIntegralTask.integrator, parameters: parameters)
    }

    /// The task with any forward integrator (dopri5 only for short, mildly stiff spans).
    public static func make<Method: Integrator>(
        horizon: Double = 4e7, integrator: Method, parameters: [Double]? = nil
    ) throws(ODEError) -> TrainingTask<Rober, Method, StateIntegralLoss> {
        guard horizon.isFinite, horizon > 0 else {
            throw .invalidTimeSpan(start: 0, end: horizon, reason: "the horizon must be positive")
        }
        return try TrainingTask(
            name: "rober-integral", system: Rober(), initialState: [1, 0, 0], systemParameters: parameters,
            timeSpan: (0, horizon), integrator: integrator, loss: StateIntegralLoss(weights: [0, 0, 1]),
            training: Rober.parameterNames)
    }
}
