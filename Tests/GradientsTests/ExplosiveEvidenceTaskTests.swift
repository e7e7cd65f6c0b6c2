import Foundation
import Testing
@testable import Gradients
import NeuroODE

/// SPEC's evidence case B: the same task with `snicExplosive` neurons. The preset reaches the
/// network and nothing else changes, and BPTT still differentiates the sharper discrete map exactly.
@Suite("evidence case B")
struct ExplosiveEvidenceTaskTests {
    /// 3 neurons, batch 2, tokens held 1 ms (50 ms): the neurons spike several times.
    static func problem(_ preset: MorrisLecar.Preset) throws -> EvidenceTask {
        try EvidenceTask(configuration: .init(
            neurons: 3, batchSize: 2, tokenDuration: 1, neuronPreset: preset, testTrials: 2, iterations: 1, samples: 2))
    }

    @Test func presetReachesTheNetworkAndNothingElse() throws {
        #expect(EvidenceTask.Configuration.small.neuronPreset == .snic)
        #expect(EvidenceTask.Configuration.paper.neuronPreset == .snic)
        let caseA = try Self.problem(.snic), caseB = try Self.problem(.snicExplosive)
        let a = try caseA.task(iteration: 0, seed: 3), b = try caseB.task(iteration: 0, seed: 3)
        #expect(a.system.neuronPreset == .snic && b.system.neuronPreset == .snicExplosive)
        // Only φ differs, and it doubles.
        for k in 0..<12 where k != 11 { #expect(a.system.neuronConstants[k] == b.system.neuronConstants[k]) }
        #expect(a.system.neuronConstants[11] == 2.0 / 30.0)
        #expect(b.system.neuronConstants[11] == 2 * a.system.neuronConstants[11])
        // Same data, initial states and initial weights: the cases compare like with like.
        let theta = try caseA.initialParameters(seed: 3)
        #expect(try caseB.initialParameters(seed: 3) == theta)
        #expect(a.initialState == b.initialState && a.loss.labels == b.loss.labels)
        #expect(try a.loss(at: theta) != b.loss(at: theta), "the neuron changes the dynamics")
        // The configuration records the preset by its command-line name.
        let json = String(decoding: try JSONEncoder().encode(caseB.configuration), as: UTF8.self)
        #expect(json.contains(#""neuronPreset":"snic-explosive""#), "\(json)")
    }

    /// BPTT against central differences of the same leapfrog map at SPEC's initialization, every
    /// entry of W_in, W_rec, W_out, b_out within 1e-5 of the larger of itself and 1e-3 × the
    /// largest. (The faster gate makes central differences at h = 1e-6 noisier than for case A:
    /// measured worst error 3e-9 of the largest entry, on entries 1e-3 of it.)
    @Test func bpttMatchesCentralDifferences() throws {
        let problem = try Self.problem(.snicExplosive)
        let task = try problem.task(iteration: 0, seed: 3)
        let theta = try problem.initialParameters(seed: 3)
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(abs(bptt.loss - reference.loss) <= 1e-14 * abs(reference.loss))
        let largest = reference.gradient.map(abs).max()!
        #expect(largest > 1e-3, "a non-trivial gradient")
        // Recurrent weights get gradient only through spikes: the network must fire.
        let recurrent = (3 * 50)..<(3 * 53)
        #expect(recurrent.contains { abs(reference.gradient[$0]) > 1e-6 * largest })
        for (k, name) in task.parameterNames.enumerated() {
            let scale = max(abs(reference.gradient[k]), 1e-3 * largest)
            #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= 1e-5 * scale,
                    "\(name): bptt \(bptt.gradient[k]) fd \(reference.gradient[k])")
        }
    }
}
