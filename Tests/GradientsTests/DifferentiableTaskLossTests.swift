import _Differentiation
import Foundation
import Testing
import NeuroODE
@testable import Gradients

/// ℓ(t, y) = sin(t)·y₀² + y₀·y₁ and φₖ(y, θ_L) = θ₀·(y₀ − cₖ)² + θ₁·y₁³, written as autodiff
/// functions; the tests compare with the derivatives worked out by hand:
/// ∂ℓ/∂y = (2 sin(t) y₀ + y₁, y₀), ∂φₖ/∂y = (2θ₀(y₀ − cₖ), 3θ₁y₁²), ∂φₖ/∂θ = ((y₀ − cₖ)², y₁³).
struct PolynomialCosts: DifferentiableTaskLoss {
    let observationTimes: [Double]
    let centres: [Double]
    var hasRunningCost: Bool { true }
    var parameterNames: [String] { ["weight", "cubic"] }

    @differentiable(reverse, wrt: state)
    func runningCost(at t: Double, state: [Double]) -> Double {
        sin(t) * state[0] * state[0] + state[0] * state[1]
    }

    @differentiable(reverse, wrt: (state, parameters))
    func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double {
        let d = state[0] - centres[index]
        return parameters[0] * d * d + parameters[1] * state[1] * state[1] * state[1]
    }
}

/// Only a terminal cost, φ(y(T)) = (y₀ − 1)²: nothing else to write.
struct TerminalOnly: DifferentiableTaskLoss {
    let observationTimes: [Double]

    @differentiable(reverse, wrt: (state, parameters))
    func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double {
        (state[0] - 1) * (state[0] - 1)
    }
}

@Suite struct DifferentiableTaskLossTests {
    let loss = PolynomialCosts(observationTimes: [1, 2.5], centres: [0.3, -0.8])

    @Test func runningCostAndItsPullbackMatchHandDerivatives() {
        for (t, y) in [(0.4, [1.5, -2.0]), (2.0, [-0.3, 0.7]), (5.0, [0.0, 3.0])] {
            var value = [0.0]
            y.withUnsafeBufferPointer { yb in value.withUnsafeMutableBufferPointer { loss.evaluateIntegrands(at: t, state: yb, into: $0) } }
            #expect(abs(value[0] - (sin(t) * y[0] * y[0] + y[0] * y[1])) <= 1e-15 * max(1, abs(value[0])))
            var bar = [0.5, -1.0]  // accumulates onto what is there
            let cotangent = [0.7]
            y.withUnsafeBufferPointer { yb in
                cotangent.withUnsafeBufferPointer { cb in
                    bar.withUnsafeMutableBufferPointer { loss.accumulateIntegrandPullback(at: t, state: yb, cotangent: cb, into: $0) }
                }
            }
            let expected = [0.5 + 0.7 * (2 * sin(t) * y[0] + y[1]), -1.0 + 0.7 * y[0]]
            for (a, b) in zip(bar, expected) { #expect(abs(a - b) <= 1e-14 * max(1, abs(b))) }
        }
    }

    @Test func observationCostsAndGradientMatchHandDerivatives() {
        let observations = [1.2, -0.5, -0.1, 2.0], theta = [0.8, -0.3], integral = 4.25
        let g = loss.valueAndGradient(integrals: [integral], observations: observations, parameters: theta)
        var value = integral
        var yBar = [Double](repeating: 0, count: 4), thetaBar = [0.0, 0.0]
        for k in 0..<2 {
            let y0 = observations[2 * k], y1 = observations[2 * k + 1], d = y0 - loss.centres[k]
            value += theta[0] * d * d + theta[1] * y1 * y1 * y1
            yBar[2 * k] = 2 * theta[0] * d
            yBar[2 * k + 1] = 3 * theta[1] * y1 * y1
            thetaBar[0] += d * d
            thetaBar[1] += y1 * y1 * y1
        }
        #expect(abs(g.value - value) <= 1e-14 * abs(value))
        #expect(g.integrals == [1])
        for (a, b) in zip(g.observations + g.parameters, yBar + thetaBar) { #expect(abs(a - b) <= 1e-14 * max(1, abs(b))) }
        #expect(loss.value(integrals: [integral], observations: observations, parameters: theta) == g.value)
        #expect(loss.integrandCount == 1)
    }

    @Test func defaultsLeaveOnlyWhatWasWritten() {
        let terminal = TerminalOnly(observationTimes: [3])
        #expect(terminal.integrandCount == 0)
        #expect(terminal.parameterNames.isEmpty)
        let g = terminal.valueAndGradient(integrals: [], observations: [3, 7], parameters: [])
        #expect(g.value == 4)
        #expect(g.observations == [4, 0])
        #expect(g.integrals.isEmpty && g.parameters.isEmpty)
    }

    /// End to end: BPTT through fixed-step dopri5 (running cost as quadrature state, observation
    /// costs with trained loss parameters) equals central differences of the same discrete loss.
    @Test func bpttThroughTheLossMatchesFiniteDifferences() throws {
        let task = try TrainingTask(
            name: "fhn-costs", system: AutodiffFitzHughNagumo(), timeSpan: (0, 4), integrator: DormandPrince.fixedStep(0.05),
            loss: loss, training: ["a", "I"])
        let theta = [0.7, 0.5, 0.8, -0.3]
        #expect(task.parameterNames == ["a", "I", "weight", "cubic"])
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(abs(bptt.loss - reference.loss) <= 1e-12 * abs(reference.loss))
        let scale = reference.gradient.map(abs).max()!
        for (k, (a, b)) in zip(bptt.gradient, reference.gradient).enumerated() {
            #expect(abs(a - b) <= 1e-6 * max(abs(b), 1e-3 * scale), "θ[\(k)]: bptt \(a), fd \(b)")
        }
    }
}
