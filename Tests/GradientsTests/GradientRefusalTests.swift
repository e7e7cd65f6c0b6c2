import _Differentiation
import Gradients
import NeuroODE
import Testing

/// Van der Pol, x' = y, y' = μ(1 − x²)y − x, θ = (μ): written as a user writes a custom model. Its
/// limit cycle attracts forward in time, so it repels the backsolve of the full adjoint.
struct VanDerPol: DifferentiableODESystem {
    var name: String { "van-der-pol" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["mu"] }
    var defaultParameters: [Double] { [1] }
    var defaultInitialState: [Double] { [2, 0] }

    @differentiable(reverse, wrt: (state, parameters))
    func derivative(at t: Double, state: [Double], parameters: [Double]) -> [Double] {
        let x = state[0], y = state[1], mu = parameters[0]
        return [y, mu * (1 - x * x) * y - x]
    }
}

@Suite struct BacksolveDivergenceTests {
    @Test func explore() throws {
        for horizon in [8.0, 12.0, 16.0, 20.0] {
            for mu in [0.5, 1.0] {
                let forward = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-12)
                let task = try TrainingTask(
                    name: "vdp", system: VanDerPol(), timeSpan: (0, horizon), integrator: forward,
                    loss: StateIntegralLoss(weights: [1, 0]), training: ["mu"])
                let fd = try FiniteDifferences(step: 1e-5).estimate(task, at: [mu])
                let partial = try AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)).estimate(task, at: [mu], iteration: 0)
                for backward in [CVODE(method: .bdf, relativeTolerance: 1e-8, absoluteTolerance: 1e-10)] as [any Integrator] {
                    let full = try? AdjointMethod(variant: .full, backwardIntegrator: backward, allowsDrift: true).estimate(task, at: [mu], iteration: 0)
                    let worst = full?.report.drift.map(\.distance).max() ?? 0
                    print("T \(horizon) mu \(mu) fd \(fd.gradient[0]) partial \(partial.gradient[0]) full \(String(describing: full?.gradient[0])) drift \(worst)")
                }
            }
        }
    }
}
