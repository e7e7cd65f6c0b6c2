import Foundation
import Testing
import NeuroODE
@testable import Gradients

@Suite struct EvidenceReadoutLossTests {
    /// N = 2 neurons, B = 2 trials, C = 3 classes, window 10 ms; Q is N × B (neuron-major).
    private func handMade(_ objective: EvidenceReadoutLoss.Objective) throws -> EvidenceReadoutLoss {
        try EvidenceReadoutLoss(neurons: 2, labels: [0, 2], endTime: 100, classes: 3, objective: objective)
    }

    /// W_out = [[1, 0], [0, 1], [1, 1]], b_out = (0, 0, −1).
    private let readoutParameters: [Double] = [1, 0, 0, 1, 1, 1, 0, 0, -1]

    @Test func readoutAndAccuracyOnAHandMadeCase() throws {
        let loss = try handMade(.crossEntropy)
        // Mean outputs Q/10: trial 0 sees (1, 0), trial 1 sees (0.5, 0.5).
        let q = [10.0, 5, 0, 5]
        let y = try loss.readout(integrals: q, parameters: readoutParameters)
        // Trial 0: (1, 0, 0); trial 1: (0.5, 0.5, 0). C × B row-major.
        #expect(y == [1, 0.5, 0, 0.5, 0, 0])
        // Trial 0's largest is class 0 (its label); trial 1's is not class 2.
        #expect(try loss.accuracy(of: q, parameters: readoutParameters) == 0.5)
    }

    @Test func crossEntropyOnAHandMadeCase() throws {
        let loss = try handMade(.crossEntropy)
        // Equal readouts in every class: each trial's cross-entropy is log 3.
        let flat = [Double](repeating: 0, count: 6) + [2, 2, 2]
        let g = loss.valueAndGradient(integrals: [3, 4, 5, 6], observations: [], parameters: flat)
        #expect(abs(g.value - log(3)) < 1e-15)
        // ∂Φ/∂b_c = (1/B) Σ_b (1/3 − δ): class 0 and class 2 each the label of one trial.
        #expect(abs(g.parameters[6] - (2.0 / 3 - 1) / 2) < 1e-15)
        #expect(abs(g.parameters[7] - (2.0 / 3) / 2) < 1e-15)
        #expect(abs(g.parameters[8] - (2.0 / 3 - 1) / 2) < 1e-15)
        #expect(g.integrals == [0, 0, 0, 0], "W_out = 0: Q does not matter")
    }

    @Test func squaredErrorOnAHandMadeCase() throws {
        let loss = try handMade(.squaredError)
        // Trial 0 readout (1, 0, 0) = e₀ exactly; trial 1 (0.5, 0.5, 0) vs e₂: 0.25 + 0.25 + 1.
        let g = loss.valueAndGradient(integrals: [10, 5, 0, 5], observations: [], parameters: readoutParameters)
        #expect(abs(g.value - 1.5 / 2) < 1e-15)
        // ∂Φ/∂y of trial 1 = 2(y − e₂)/B = (0.5, 0.5, −1); Q̄_i1 = Σ_c W_out[c,i]·ȳ_c1 / window.
        let expected: Double = (0.5 - 1) / 10
        #expect(g.integrals == [0, expected, 0, expected])
        #expect(g.parameters[6...] == [0.5, 0.5, -1])
    }

    @Test(arguments: EvidenceReadoutLoss.Objective.allCases)
    func gradientMatchesCentralDifferences(objective: EvidenceReadoutLoss.Objective) throws {
        let loss = try EvidenceReadoutLoss(neurons: 4, labels: [1, 0, 2], endTime: 300, window: 10, objective: objective)
        var g = SeededGenerator(seed: 3)
        let q = (0..<12).map { _ in g.nextUniform(in: 0..<10) }
        let theta = (0..<15).map { _ in g.nextUniform(in: -1..<1) }
        let analytic = loss.valueAndGradient(integrals: q, observations: [], parameters: theta)
        #expect(abs(analytic.value - loss.value(integrals: q, observations: [], parameters: theta)) == 0)
        func difference(_ x: [Double], _ i: Int, _ f: ([Double]) -> Double) -> Double {
            var up = x, down = x
            up[i] += 1e-6
            down[i] -= 1e-6
            return (f(up) - f(down)) / 2e-6
        }
        for i in q.indices {
            let fd = difference(q, i) { loss.value(integrals: $0, observations: [], parameters: theta) }
            #expect(abs(fd - analytic.integrals[i]) <= 1e-8, "Q[\(i)]")
        }
        for i in theta.indices {
            let fd = difference(theta, i) { loss.value(integrals: q, observations: [], parameters: $0) }
            #expect(abs(fd - analytic.parameters[i]) <= 1e-8, "θ[\(i)]")
        }
    }

    @Test func integrandsAreTheOutputsInsideTheWindowOnly() throws {
        let synapse = SynapticOutput.authorsNetwork
        let loss = try EvidenceReadoutLoss(neurons: 2, labels: [0, 1, 1], endTime: 300, window: 10, synapse: synapse)
        #expect(loss.integrandCount == 6)
        // State [V | w] of N = 2, B = 3.
        let state = [-40.0, -3, 10, 25, -70, 0] + [Double](repeating: 0.1, count: 6)
        func integrands(at t: Double) -> [Double] {
            var r = [Double](repeating: .nan, count: 6)
            state.withUnsafeBufferPointer { y in r.withUnsafeMutableBufferPointer { loss.evaluateIntegrands(at: t, state: y, into: $0) } }
            return r
        }
        #expect(integrands(at: 289.9) == [Double](repeating: 0, count: 6))
        // The step time 2900·0.1 lands on the window's start up to rounding and belongs to it.
        for t in [2900 * 0.1, 290, 300] {
            #expect(integrands(at: t) == state[0..<6].map { 1 / (1 + exp(-($0 + 3) / 8)) })
        }
        var bar = [Double](repeating: 0, count: 12)
        let cotangent: [Double] = [1, 2, 3, 4, 5, 6]
        state.withUnsafeBufferPointer { y in
            cotangent.withUnsafeBufferPointer { c in bar.withUnsafeMutableBufferPointer { loss.accumulateIntegrandPullback(at: 295, state: y, cotangent: c, into: $0) } }
        }
        for j in 0..<6 {
            let t = 1 / (1 + exp(-(state[j] + 3) / 8))
            #expect(abs(bar[j] - cotangent[j] * t * (1 - t) / 8) <= 1e-15)
        }
        #expect(bar[6...].allSatisfy { $0 == 0 })
    }

    @Test func badConfigurationsAreTypedErrors() {
        #expect(throws: ODEError.self) { try EvidenceReadoutLoss(neurons: 2, labels: [0, 3], endTime: 10) }
        #expect(throws: ODEError.self) { try EvidenceReadoutLoss(neurons: 2, labels: [], endTime: 10) }
        #expect(throws: ODEError.self) { try EvidenceReadoutLoss(neurons: 2, labels: [0], endTime: 10, window: 0) }
        #expect(throws: ODEError.self) { try EvidenceReadoutLoss(neurons: 0, labels: [0], endTime: 10) }
        #expect(throws: ODEError.self) {
            try EvidenceReadoutLoss(neurons: 2, labels: [0], endTime: 10).accuracy(of: [1, 2, 3], parameters: [Double](repeating: 0, count: 9))
        }
    }
}
