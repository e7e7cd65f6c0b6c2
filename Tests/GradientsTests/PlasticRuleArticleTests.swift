import _Differentiation
import Foundation
import Testing
import NeuroODE
@testable import Gradients

/// The "Adding your own rule" example of the PlasticNetworks article, verbatim, so the article
/// cannot drift from what compiles and works.
private struct TwoInputRule: DifferentiableODESystem {
    var name: String { "two-input-rule" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["hebb", "decay", "oja"] }
    var defaultParameters: [Double] { [0.1, 0, -0.1] }
    var defaultInitialState: [Double] { [0.3, 0.1] }

    @differentiable(reverse, wrt: (w, p))
    func derivative(at t: Double, state w: [Double], parameters p: [Double]) -> [Double] {
        let x0 = sin(t) + 0.5 * cos(3 * t), x1 = sin(t) - 0.5 * cos(3 * t)
        let y = w[0] * x0 + w[1] * x1
        return [p[0] * y * x0 + p[1] * w[0] + p[2] * y * y * w[0],
                p[0] * y * x1 + p[1] * w[1] + p[2] * y * y * w[1]]
    }
}

@Suite struct PlasticRuleArticleTests {
    @Test func theArticlesOwnRuleTrainsByCMAESAndDifferentiates() throws {
        let horizon = 100.0
        let task = try TrainingTask(
            name: "two-input", system: TwoInputRule(), timeSpan: (0, horizon), integrator: DormandPrince.fixedStep(0.2),
            loss: PrincipalComponentLoss(component: [(0.5).squareRoot(), (0.5).squareRoot()], time: horizon),
            training: ["hebb", "decay", "oja"])
        let found = try CMAES(initialStepSize: 0.1, seed: 1).minimize(task, from: [0, 0, 0], maxEvaluations: 300)
        let gradient = try BackpropagationThroughTime().estimate(task, at: found.bestParameters, iteration: 0)
        // Oja's rule (slow enough not to follow each input cycle) solves this task; CMA-ES finds
        // a rule about as good from the origin of the rule space.
        let atOja = try task.loss(at: [0.1, 0, -0.1])
        let atOrigin = try task.loss(at: [0, 0, 0])
        #expect(atOja < 0.01 && atOrigin > 0.5, "Oja \(atOja), origin \(atOrigin)")
        #expect(found.bestLoss < 2 * atOja, "CMA-ES: \(found.bestLoss) at \(found.bestParameters)")
        // On the fixed grid BPTT differentiates exactly the map that is run.
        for theta in [found.bestParameters, [0.5, 0.1, -0.3]] {
            let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
            let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
            let largest = reference.gradient.map(abs).max()!
            for k in 0..<3 {
                #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= 1e-6 * max(abs(reference.gradient[k]), 1e-3 * largest),
                        "θ = \(theta): bptt \(bptt.gradient) fd \(reference.gradient)")
            }
        }
        _ = gradient
    }
}
