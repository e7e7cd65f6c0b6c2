import Foundation
import Testing
@testable import Gradients
import NeuroODE

/// The evidence training problem on hand-made readouts whose loss and accuracy are known without
/// the network: with W_out = 0 every trial's readout is b_out.
@Suite("evidence task")
struct EvidenceTaskTests {
    /// 3 neurons, batch 4, tokens held 0.5 ms (25 ms), 6 test trials: a few hundred steps.
    static func problem(objective: String = "cross-entropy") throws -> EvidenceTask {
        try EvidenceTask(configuration: .init(
            neurons: 3, batchSize: 4, tokenDuration: 0.5, testTrials: 6, objective: objective, iterations: 1, samples: 2))
    }

    /// θ with the network weights at their initialization and the readout replaced.
    static func theta(_ problem: EvidenceTask, bias: [Double]) throws -> [Double] {
        var theta = try problem.initialParameters(seed: 7)
        let readout = theta.count - 3 * 3 - 3
        for k in readout..<(theta.count - 3) { theta[k] = 0 }
        theta.replaceSubrange((theta.count - 3)..., with: bias)
        return theta
    }

    @Test func layoutAndInitialization() throws {
        let problem = try Self.problem()
        let theta = try problem.initialParameters(seed: 7)
        #expect(theta.count == 3 * 50 + 3 * 3 + 3 * 3 + 3)
        #expect(problem.parameterNames.count == theta.count)
        #expect(problem.parameterNames.last == "b_out[2]")
        // W_in ~ U(0.1 ± 1/√3), b_out = 0 (SPEC).
        #expect(theta[0..<150].allSatisfy { abs($0 - 0.1) <= 1 / 3.0.squareRoot() })
        #expect(Array(theta.suffix(3)) == [0, 0, 0])
        // Each iteration's task has its own trials; the same iteration is rebuilt identically.
        let first = try problem.task(iteration: 0, seed: 7), second = try problem.task(iteration: 1, seed: 7)
        #expect(first.loss.labels == (0..<4).map { EvidenceDataset(seed: 7).trial($0, of: .training).label })
        #expect(second.loss.labels == (4..<8).map { EvidenceDataset(seed: 7).trial($0, of: .training).label })
        #expect(try problem.task(iteration: 1, seed: 7).initialState == second.initialState)
        #expect(first.initialState != second.initialState)
    }

    /// A constant readout favouring class c is right on exactly the test trials labelled c.
    @Test(arguments: [0, 1, 2]) func accuracyOfAConstantReadout(favoured: Int) throws {
        let problem = try Self.problem()
        var bias = [0.0, 0, 0]
        bias[favoured] = 5
        let accuracy = try problem.evaluateTestMetric(at: Self.theta(problem, bias: bias), seed: 7)
        let labels = (0..<6).map { EvidenceDataset(seed: 7).trial($0, of: .test).label }
        #expect(accuracy == Double(labels.filter { $0 == favoured }.count) / 6)
    }

    /// Zero readout: cross-entropy ln 3 per trial; L2 to the one-hot label exactly 1 per trial.
    @Test func lossOfAZeroReadout() throws {
        let crossEntropy = try Self.problem()
        let ce = try crossEntropy.task(iteration: 0, seed: 7).loss(at: Self.theta(crossEntropy, bias: [0, 0, 0]))
        #expect(abs(ce - log(3)) <= 1e-15)
        let squared = try Self.problem(objective: "l2")
        #expect(try squared.task(iteration: 0, seed: 7).loss(at: Self.theta(squared, bias: [0, 0, 0])) == 1)
        // b_out = e_label for every trial is impossible with mixed labels; b = (1, 0, 0) costs
        // 0 for label-0 trials and 2 for the others.
        let labels = try squared.task(iteration: 0, seed: 7).loss.labels
        let expected = Double(labels.filter { $0 != 0 }.count) * 2 / 4
        #expect(try squared.task(iteration: 0, seed: 7).loss(at: Self.theta(squared, bias: [1, 0, 0])) == expected)
    }

    @Test func badConfigurationIsNamed() {
        #expect(throws: ODEError.unknownParameter(name: "hinge", model: "evidence loss (cross-entropy, l2)")) {
            try Self.problem(objective: "hinge")
        }
        #expect(throws: ODEError.invalidParameter(name: "neurons", value: 0, reason: "must be at least 1")) {
            try EvidenceTask(configuration: .init(neurons: 0, batchSize: 1, tokenDuration: 6, testTrials: 1, iterations: 1, samples: 2))
        }
    }
}
