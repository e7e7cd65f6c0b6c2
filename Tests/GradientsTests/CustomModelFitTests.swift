import _Differentiation
import Testing
import NeuroODE
@testable import Gradients

/// The custom-model example at library level and small size: FitzHugh–Nagumo (autodiff form)
/// fitted to its own trace from a perturbed start, by BPTT and by ES. The reference is the truth
/// the trace was generated with.
@Suite struct CustomModelFitTests {
    struct Trace: DifferentiableTaskLoss {
        let observationTimes: [Double]
        let values: [Double]

        @differentiable(reverse, wrt: (state, parameters))
        func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double {
            let residual = state[0] - values[index]
            return residual * residual / Double(values.count)
        }
    }

    static let fitted = ["a", "b", "tau"]
    static let truth = [0.7, 0.8, 12.5]
    static let start = [0.6, 0.9, 11.0]

    func task() throws -> TrainingTask<AutodiffFitzHughNagumo, DormandPrince, Trace> {
        let dopri = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)
        let times = (1...80).map { Double($0) / 2 }
        let recording = try dopri.solve(ODEProblem(system: AutodiffFitzHughNagumo(), timeSpan: (0, 40)), output: .times(times))
        return try TrainingTask(
            name: "fhn-fit", system: AutodiffFitzHughNagumo(), timeSpan: (0, 40), integrator: dopri,
            loss: Trace(observationTimes: times, values: recording.component(0)), training: Self.fitted)
    }

    /// Adam on u = θ/θ_start with a decaying step; returns θ and the loss at the end.
    func fit(
        iterations: Int, learningRate: Double, decay: Double, tolerance: Double,
        gradient: ([Double], Int) throws -> GradientEstimate
    ) throws -> (theta: [Double], loss: Double) {
        var u = [1.0, 1.0, 1.0]
        var optimizer = SafeguardedOptimizer(Adam(learningRate: learningRate), maxGradientNorm: 10)
        var loss = Double.infinity
        for iteration in 0..<iterations {
            let estimate = try gradient(u, iteration)
            loss = estimate.loss
            if loss < tolerance { break }
            _ = optimizer.step(&u, gradient: estimate.gradient)
            optimizer.base.learningRate *= decay
        }
        return (zip(u, Self.start).map(*), loss)
    }

    struct Relative: Objective {
        let task: TrainingTask<AutodiffFitzHughNagumo, DormandPrince, Trace>
        var parameterCount: Int { 3 }
        func loss(at u: [Double]) throws -> Double { try task.loss(at: zip(u, CustomModelFitTests.start).map(*)) }
    }

    @Test func bpttRecoversTheParameters() throws {
        let task = try task()
        let initial = try task.loss(at: Self.start)
        let result = try fit(iterations: 120, learningRate: 0.05, decay: 0.99, tolerance: 1e-6) { u, iteration in
            var estimate = try BackpropagationThroughTime().estimate(task, at: zip(u, Self.start).map(*), iteration: iteration)
            estimate.gradient = zip(estimate.gradient, Self.start).map(*)
            return estimate
        }
        #expect(result.loss < 1e-5 * initial, "loss \(result.loss) from \(initial)")
        for (k, name) in Self.fitted.enumerated() {
            #expect(abs(result.theta[k] - Self.truth[k]) <= 0.01 * Self.truth[k], "\(name) = \(result.theta[k])")
        }
    }

    /// ES on the same problem (the example's settings and seed). Its estimates are noisy along the
    /// shallow valley in which b and τ trade off, so the fit is looser than BPTT's; with other seeds
    /// it can stall in that valley at MSE ≈ 5e-4 (seen for 2 of seeds 1–6 in the example).
    @Test func evolutionStrategyRecoversTheParameters() throws {
        let objective = Relative(task: try task())
        let initial = try objective.loss(at: [1, 1, 1])
        let es = EvolutionStrategy(samples: 16, sigma: 0.01, seed: 1, threads: 2)
        let result = try fit(iterations: 300, learningRate: 0.05, decay: 0.997, tolerance: 1e-5) { u, iteration in
            try es.estimate(objective: objective, at: u, iteration: iteration)
        }
        #expect(result.loss < 1e-3 * initial, "loss \(result.loss) from \(initial)")
        for (k, name) in Self.fitted.enumerated() {
            #expect(abs(result.theta[k] - Self.truth[k]) <= 0.03 * Self.truth[k], "\(name) = \(result.theta[k])")
        }
    }
}
