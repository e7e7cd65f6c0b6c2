import Foundation
import Testing
import NeuroODE
@testable import Gradients

/// y' = A y with A = [[a, b], [c, d]] (the parameters): reversible, with a hand-written pullback.
struct LinearFlow: VectorJacobianProviding {
    var name: String { "linear-flow" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["a", "b", "c", "d"] }
    var defaultParameters: [Double] { [-0.1, 1.0, -1.0, -0.2] }
    var defaultInitialState: [Double] { [1, 0.5] }
    func evaluateRightHandSide(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>, into d: UnsafeMutableBufferPointer<Double>) {
        d[0] = p[0] * y[0] + p[1] * y[1]
        d[1] = p[2] * y[0] + p[3] * y[1]
    }
    func accumulatePullback(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
                            cotangent l: UnsafeBufferPointer<Double>, stateCotangent s: UnsafeMutableBufferPointer<Double>,
                            parameterCotangent g: UnsafeMutableBufferPointer<Double>) {
        s[0] += l[0] * p[0] + l[1] * p[2]
        s[1] += l[0] * p[1] + l[1] * p[3]
        g[0] += l[0] * y[0]; g[1] += l[0] * y[1]; g[2] += l[1] * y[0]; g[3] += l[1] * y[1]
    }
}

@Suite struct ContinuousGradientTests {
    let tight = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-12)

    @Test func bpttThroughFixedStepDopri5MatchesCentralDifferences() throws {
        let model = NeuralODE(layerSizes: [2, 8, 2], activation: .tanh, inputMap: .cube)
        let times = [0.5, 1.0, 1.5, 2.0]
        let targets = [0.8, 0.3, 0.1, 0.6, -0.4, 0.5, -0.6, 0.1]
        let task = try TrainingTask(
            name: "mlp", system: model, initialState: [1.0, 0.2], systemParameters: model.initialParameters(seed: 3),
            timeSpan: (0, 2), integrator: DormandPrince.fixedStep(0.05),
            loss: TrajectoryMatchingLoss(times: times, targets: targets, dimension: 2, metric: .meanSquared),
            training: model.parameterNames)
        let theta = task.systemParameters
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(abs(bptt.loss - reference.loss) <= 1e-12 * reference.loss)
        let largest = reference.gradient.map(abs).max()!
        for k in theta.indices {
            #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= 1e-6 * max(abs(reference.gradient[k]), 1e-3 * largest),
                    "\(model.parameterNames[k])")
        }
    }

    @Test func fullAndPartialAdjointsAgreeOnAReversibleLinearSystem() throws {
        let task = try TrainingTask(
            name: "linear", system: LinearFlow(), timeSpan: (0, 3), integrator: tight,
            loss: TrajectoryMatchingLoss(times: [1, 2, 3], targets: [0.2, 0.1, -0.3, 0.4, 0.0, 0.0], dimension: 2, metric: .meanSquared),
            training: ["a", "b", "c", "d"])
        let theta = LinearFlow().defaultParameters
        let full = try AdjointMethod(variant: .full, backwardIntegrator: tight).estimate(task, at: theta, iteration: 0)
        let partial = try AdjointMethod(variant: .partial, backwardIntegrator: tight).estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        for k in 0..<4 {
            #expect(abs(full.gradient[k] - partial.gradient[k]) <= 1e-6 * max(1e-3, abs(partial.gradient[k])))
            #expect(abs(full.gradient[k] - reference.gradient[k]) <= 1e-6 * max(1e-3, abs(reference.gradient[k])))
        }
        #expect(full.report.drift.allSatisfy { $0.distance < 1e-8 })
        #expect(full.report.bytesStored < partial.report.bytesStored)
    }

    /// Partial adjoint vs BPTT on the turn-off task: the continuous and discrete gradients differ by
    /// the leapfrog's truncation error, so the gap shrinks about fourfold per halving of dt.
    @Test func partialAdjointApproachesBPTTAtTheLeapfrogsOrder() throws {
        var gaps: [Double] = []
        for dt in [0.05, 0.025, 0.0125] {
            let task = try TrainingTask(
                name: "turn-off", system: MorrisLecar(preset: .hopf), timeSpan: (0, 150), integrator: Leapfrog(stepSize: dt),
                loss: MeanActivityLoss(horizon: 150), training: ["I", "phi", "gCa"])
            let theta = [100.0, 0.04, 4.0]
            let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
            let adjoint = try AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince.fixedStep(dt)).estimate(task, at: theta, iteration: 0)
            gaps.append(zip(bptt.gradient, adjoint.gradient).map { abs($0 - $1) / max(abs($0), 1e-12) }.max()!)
        }
        let orders = zip(gaps, gaps.dropFirst()).map { log2($0 / $1) }
        #expect(orders.allSatisfy { $0 > 1.75 && $0 < 2.25 }, "gaps \(gaps), orders \(orders)")
    }

    /// Morris–Lecar is irreversible: integrating y backward from y(T) departs from the forward
    /// trajectory, and the departure grows with the horizon (SPEC claim 2).
    @Test func backsolveDriftGrowsWithTheHorizonOnMorrisLecar() throws {
        var drifts: [Double] = []
        for horizon in [20.0, 200.0] {
            let task = try TrainingTask(
                name: "turn-off", system: MorrisLecar(preset: .hopf), timeSpan: (0, horizon),
                integrator: DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10),
                loss: MeanActivityLoss(horizon: horizon), training: ["I"])
            let estimate = try AdjointMethod(
                variant: .full, backwardIntegrator: DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10), allowsDrift: true)
                .estimate(task, at: [100], iteration: 0)
            drifts.append(estimate.report.drift.map(\.distance).max()!)
        }
        #expect(drifts[1] > 100 * drifts[0], "drifts \(drifts)")
        #expect(drifts[1] > 1, "the 200 ms backsolve loses the trajectory: \(drifts)")
    }
}

/// With an adaptive integrator the running cost is integrated as extra state, so BPTT through
/// dopri5's steps, the adjoints and finite differences agree on the turn-off task (with a trapezoid
/// sum over the adaptive steps they differed by 2 %).
@Suite struct QuadratureStateTests {
    @Test func dopri5TurnOffGradientsAgree() throws {
        let tolerance = DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-11)
        let task = try TurnOffTask.make(horizon: 200, integrator: tolerance)
        #expect(task.integratesRunningCostAsState)
        let bptt = try BackpropagationThroughTime().estimate(task, at: [100], iteration: 0)
        let adjoint = try AdjointMethod(variant: .partial, backwardIntegrator: tolerance).estimate(task, at: [100], iteration: 0)
        let fd = try FiniteDifferences(step: 1e-4).estimate(task, at: [100])
        let reference = fd.gradient[0]
        #expect(abs(bptt.gradient[0] - reference) < 2e-3 * abs(reference), "bptt \(bptt.gradient[0]) fd \(reference)")
        #expect(abs(adjoint.gradient[0] - reference) < 2e-3 * abs(reference), "adjoint \(adjoint.gradient[0]) fd \(reference)")
        // The loss itself matches the leapfrog's at a fine step (independent scheme).
        let fine = try TurnOffTask.make(horizon: 200, integrator: Leapfrog(stepSize: 0.005)).loss(at: [100])
        #expect(abs(bptt.loss - fine) < 1e-4 * fine, "dopri5 \(bptt.loss) leapfrog \(fine)")
    }

    @Test func augmentedJacobianMatchesDifferences() throws {
        let system = QuadratureAugmentedSystem(base: Rober(), loss: StateIntegralLoss(weights: [0, 0, 1]))
        let y = [0.9, 2e-5, 0.1, 0], p = Rober().defaultParameters
        var jacobian = [Double](repeating: 0, count: 16)
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                try jacobian.withUnsafeMutableBufferPointer { try system.evaluateJacobian(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        // The quadrature row is ∂y₃/∂y = (0, 0, 1, 0); the quadrature column is zero.
        #expect(jacobian[3] == 0 && jacobian[3 + 4] == 0 && jacobian[3 + 8] == 1 && jacobian[3 + 12] == 0)
        #expect((0..<4).allSatisfy { jacobian[$0 + 12] == 0 })
    }
}
