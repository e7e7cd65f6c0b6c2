import Foundation
import Testing
@testable import NeuroODE

/// The small network of Validation/network_reference.py (N = 4, M = 3, B = 2, two tokens, strong
/// random weights), against NumPy's right-hand side and SciPy's DOP853 solution.
@Suite struct NetworkReferenceTests {
    struct Reference: Decodable {
        struct Evaluation: Decodable { let time: Double; let state: [Double]; let derivative: [Double] }
        let neurons: Int, inputs: Int, batch: Int
        let tokenDuration: Double, endTime: Double
        let vocabulary: [Double], sequences: [[Int]]
        let inputWeights: [Double], recurrentWeights: [Double], bias: [Double]
        let gain: Double, biasCurrent: Double
        let initialState: [Double], rightHandSide: [Evaluation], finalState: [Double]
    }

    func load() throws -> (Reference, MorrisLecarNetwork) {
        let url = try #require(Bundle.module.url(forResource: "network_reference", withExtension: "json", subdirectory: "References"))
        let r = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let input = try TokenSequenceInput(
            vocabulary: r.vocabulary, channels: r.inputs, sequences: r.sequences, tokenDuration: r.tokenDuration)
        let net = try MorrisLecarNetwork(
            neurons: r.neurons, input: input, inputWeights: r.inputWeights, recurrentWeights: r.recurrentWeights,
            bias: r.bias, gain: r.gain, biasCurrent: r.biasCurrent, initialState: r.initialState)
        return (r, net)
    }

    @Test func rightHandSideMatchesNumPy() throws {
        let (r, net) = try load()
        for evaluation in r.rightHandSide {
            let dydt = try net.networkTestRightHandSide(evaluation.time, evaluation.state, net.defaultParameters)
            for (a, b) in zip(dydt, evaluation.derivative) {
                #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "t = \(evaluation.time)")
            }
        }
    }

    /// Leapfrog converges to SciPy's solution (the continuous network, T(V(t)) in the recurrent
    /// current) at its scheme's order, with the error in V at t_end measured through the spikes of
    /// these 10 ms:
    /// - the default extrapolated-midpoint scheme at second order, below 1e-3 mV at Δt = 0.005 ms;
    /// - the paper's step-start map at first order (slope 1 ± 0.2), below 0.05 mV at Δt = 0.005 ms:
    ///   it freezes the instantaneous terms at Vₙ for the whole step (m∞(Vₙ) in G and E, and SPEC's
    ///   T_prev = T(Vₙ) in the recurrent current), an explicit Euler treatment of those terms. A
    ///   NumPy transcription of that scheme on one neuron (Validation/leapfrog_order_single_ml.py)
    ///   shows the same slope 1.00, so it is the scheme's order, not the network code's.
    @Test(arguments: [(Leapfrog.InstantaneousVoltage.extrapolatedMidpoint, 2.0, 1e-3), (.stepStart, 1.0, 0.05)])
    func leapfrogConvergesToSciPyAtItsOrder(scheme: Leapfrog.InstantaneousVoltage, expectedOrder: Double, bar: Double) throws {
        let (r, net) = try load()
        let nb = r.neurons * r.batch
        var errors: [Double] = []
        for dt in [0.02, 0.01, 0.005] {
            let final = try net.simulate(timeSpan: (0, r.endTime), stepSize: dt, scheme: scheme, threads: 2)
            errors.append((0..<nb).map { abs(final[$0] - r.finalState[$0]) }.max()!)
        }
        let slopes = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        let order = slopes.reduce(0, +) / Double(slopes.count)
        #expect(abs(order - expectedOrder) < 0.2, "errors \(errors), slopes \(slopes)")
        #expect(errors.last! < bar, "errors \(errors)")
    }
}
