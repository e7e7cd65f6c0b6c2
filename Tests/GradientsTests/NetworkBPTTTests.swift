import Foundation
import Testing
@testable import Gradients
@testable import NeuroODE

/// A token input stripped of its token structure, which sends a network down the dense input path.
private struct DenseTokenInput: InputSignal {
    let base: TokenSequenceInput
    var channels: Int { base.channels }
    var batchSize: Int { base.batchSize }
    var segmentCount: Int { base.segmentCount }
    func segmentIndex(at t: Double) -> Int { base.segmentIndex(at: t) }
    func writeSegment(_ index: Int, into values: UnsafeMutableBufferPointer<Double>) { base.writeSegment(index, into: values) }
}

/// A small spiking network (N = 6, M = 4, B = 3, three tokens of 5 ms) with random weights strong
/// enough that the recurrent and input terms both shape the trajectory.
private func smallNetwork(dense: Bool = false, seed: UInt64 = 5) throws -> MorrisLecarNetwork {
    let n = 6, m = 4, b = 3
    var g = SeededGenerator(seed: seed, stream: 9)
    let input = try TokenSequenceInput.random(
        channels: m, vocabularySize: 3, length: 8, batchSize: b, tokenDuration: 5, amplitude: 0.5, seed: seed)
    let wIn = (0..<(n * m)).map { _ in g.nextUniform(in: -0.4..<0.6) }
    let wRec = (0..<(n * n)).map { _ in g.nextUniform(in: -0.5..<0.5) }
    let bias = (0..<n).map { _ in g.nextUniform(in: 0..<0.2) }
    let v0 = (0..<(n * b)).map { _ in g.nextUniform(in: -60..<20) }
    let w0 = (0..<(n * b)).map { _ in g.nextUniform(in: 0..<0.3) }
    if dense {
        return try MorrisLecarNetwork(
            neurons: n, input: DenseTokenInput(base: input), inputWeights: wIn, recurrentWeights: wRec, bias: bias,
            initialState: v0 + w0)
    }
    return try MorrisLecarNetwork(
        neurons: n, input: input, inputWeights: wIn, recurrentWeights: wRec, bias: bias, initialState: v0 + w0)
}

/// Trained parameters of every kind: W_in, W_rec and bias entries, gain, I_bias.
private let selectedParameters = ["W_in[0,0]", "W_in[2,3]", "W_in[5,1]", "W_rec[0,1]", "W_rec[3,3]", "W_rec[4,2]",
                                  "W_rec[5,0]", "bias[1]", "bias[4]", "gain", "I_bias"]

private func expectClose(_ bptt: GradientEstimate, _ reference: GradientEstimate, _ names: [String], tolerance: Double) {
    let largest = reference.gradient.map(abs).max()!
    for (k, name) in names.enumerated() {
        let scale = max(abs(reference.gradient[k]), 1e-3 * largest)
        #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= tolerance * scale,
                "\(name): bptt \(bptt.gradient[k]) fd \(reference.gradient[k])")
    }
}

@Suite struct NetworkBPTTTests {
    private func activityTask(_ network: MorrisLecarNetwork, horizon: Double, scheme: Leapfrog.InstantaneousVoltage)
        throws -> TrainingTask<MorrisLecarNetwork, Leapfrog, MeanActivityLoss>
    {
        try TrainingTask(
            name: "network-activity", system: network, timeSpan: (0, horizon),
            integrator: Leapfrog(stepSize: 0.1, instantaneousVoltage: scheme),
            loss: MeanActivityLoss(output: network.synapse, voltageIndices: network.voltageIndices, horizon: horizon),
            training: selectedParameters)
    }

    @Test(arguments: [(Leapfrog.InstantaneousVoltage.extrapolatedMidpoint, false), (.stepStart, false), (.extrapolatedMidpoint, true)])
    func bpttMatchesCentralDifferencesOfTheSameDiscreteMap(scheme: Leapfrog.InstantaneousVoltage, dense: Bool) throws {
        let network = try smallNetwork(dense: dense)
        let task = try activityTask(network, horizon: 40, scheme: scheme)
        let theta = selectedParameters.map { network.defaultParameters[try! network.parameterIndex(named: $0)] }
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(abs(bptt.loss - reference.loss) <= 1e-14 * abs(reference.loss), "BPTT's forward pass equals the integrator's")
        #expect(bptt.loss > 0.05, "neurons fire inside the horizon, so the gradient is not trivial")
        expectClose(bptt, reference, task.parameterNames, tolerance: 1e-6)
    }

    @Test func readoutLossGradientThroughTheNetwork() throws {
        let network = try smallNetwork()
        let horizon = 30.0
        let loss = try EvidenceReadoutLoss(neurons: network.neurons, labels: [2, 0, 1], endTime: horizon, synapse: network.synapse)
        let task = try TrainingTask(
            name: "network-readout", system: network, timeSpan: (0, horizon), integrator: Leapfrog(stepSize: 0.1),
            loss: loss, training: selectedParameters)
        var readout = loss.seededParameters(seed: 4)
        readout[readout.count - 2] = 0.3
        let theta = selectedParameters.map { network.defaultParameters[try! network.parameterIndex(named: $0)] } + readout
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-5).estimate(task, at: theta)
        #expect(abs(bptt.loss - reference.loss) <= 1e-14 * abs(reference.loss))
        expectClose(bptt, reference, task.parameterNames, tolerance: 1e-6)
    }

    @Test func checkpointedEqualsPlainToRounding() throws {
        let network = try smallNetwork()
        let task = try activityTask(network, horizon: 50, scheme: .extrapolatedMidpoint)
        let theta = selectedParameters.map { network.defaultParameters[try! network.parameterIndex(named: $0)] }
        let plain = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        for checkpointing in [BackpropagationThroughTime.Checkpointing.interval(13), .squareRoot] {
            let checkpointed = try BackpropagationThroughTime(checkpointing: checkpointing).estimate(task, at: theta, iteration: 0)
            #expect(checkpointed.loss == plain.loss)
            for (a, b) in zip(checkpointed.gradient, plain.gradient) {
                #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(checkpointing)")
            }
            #expect(checkpointed.report.bytesStored < plain.report.bytesStored / 5)
        }
    }
}

/// The pullbacks against central differences of the coefficient functions themselves, at random
/// voltages, gates and cotangents.
@Suite struct NetworkPullbackTests {
    /// f(V, w, θ) = Ḡ·G + Ē·E, whose gradient is what the membrane pullback accumulates.
    private func membraneFunctional(
        _ network: MorrisLecarNetwork, _ t: Double, _ v: [Double], _ w: [Double], _ p: [Double], _ gBar: [Double], _ eBar: [Double]
    ) throws -> Double {
        var g = [Double](repeating: 0, count: v.count), e = g
        try v.withUnsafeBufferPointer { vv in
            try w.withUnsafeBufferPointer { ww in
                try p.withUnsafeBufferPointer { pp in
                    try g.withUnsafeMutableBufferPointer { gg in
                        try e.withUnsafeMutableBufferPointer { ee in
                            try network.evaluateMembraneCoefficients(at: t, voltages: vv, gates: ww, parameters: pp, conductance: gg, drive: ee)
                        }
                    }
                }
            }
        }
        return zip(g, gBar).map(*).reduce(0, +) + zip(e, eBar).map(*).reduce(0, +)
    }

    private func gateFunctional(_ network: MorrisLecarNetwork, _ v: [Double], _ p: [Double], _ xBar: [Double], _ tauBar: [Double]) throws -> Double {
        var x = [Double](repeating: 0, count: v.count), tau = x
        try v.withUnsafeBufferPointer { vv in
            try p.withUnsafeBufferPointer { pp in
                try x.withUnsafeMutableBufferPointer { xx in
                    try tau.withUnsafeMutableBufferPointer { tt in
                        try network.evaluateGateKinetics(at: 0, voltages: vv, parameters: pp, steadyState: xx, timeConstant: tt)
                    }
                }
            }
        }
        return zip(x, xBar).map(*).reduce(0, +) + zip(tau, tauBar).map(*).reduce(0, +)
    }

    private func centralDifference(_ x: [Double], _ i: Int, _ f: ([Double]) throws -> Double) rethrows -> Double {
        let h = 1e-6 * max(1, abs(x[i]))
        var up = x, down = x
        up[i] += h
        down[i] -= h
        return (try f(up) - f(down)) / (2 * h)
    }

    @Test(arguments: [false, true])
    func membranePullbackMatchesCentralDifferences(dense: Bool) throws {
        let network = try smallNetwork(dense: dense)
        let nb = network.voltageCount
        var g = SeededGenerator(seed: 21)
        let v = (0..<nb).map { _ in g.nextUniform(in: -70..<30) }
        let w = (0..<nb).map { _ in g.nextUniform(in: 0..<0.5) }
        let gBar = (0..<nb).map { _ in g.nextUniform(in: -1..<1) }
        let eBar = (0..<nb).map { _ in g.nextUniform(in: -1..<1) }
        let p = network.defaultParameters
        let t = 7.5  // second token segment
        // The outputs start at 1 so that the test also sees that the pullback adds.
        var vBar = [Double](repeating: 1, count: nb), wBar = vBar
        var thetaBar = [Double](repeating: 1, count: p.count)
        var scratch = [Double](repeating: .nan, count: network.pullbackScratchCount)
        v.withUnsafeBufferPointer { vv in
            w.withUnsafeBufferPointer { ww in
                p.withUnsafeBufferPointer { pp in
                    gBar.withUnsafeBufferPointer { gb in
                        eBar.withUnsafeBufferPointer { eb in
                            vBar.withUnsafeMutableBufferPointer { vb in
                                wBar.withUnsafeMutableBufferPointer { wb in
                                    thetaBar.withUnsafeMutableBufferPointer { tb in
                                        scratch.withUnsafeMutableBufferPointer { sb in
                                            network.accumulateMembraneCoefficientsPullback(
                                                at: t, voltages: vv, gates: ww, parameters: pp, conductanceCotangent: gb, driveCotangent: eb,
                                                voltageCotangent: vb, gateCotangent: wb, parameterCotangent: tb, scratch: sb)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        func check(_ analytic: Double, _ reference: Double, _ what: String) {
            #expect(abs(analytic - reference) <= 1e-7 * max(1, abs(reference)), "\(what): pullback \(analytic) fd \(reference)")
        }
        for j in 0..<nb {
            check(vBar[j] - 1, try centralDifference(v, j) { try membraneFunctional(network, t, $0, w, p, gBar, eBar) }, "V[\(j)]")
            check(wBar[j] - 1, try centralDifference(w, j) { try membraneFunctional(network, t, v, $0, p, gBar, eBar) }, "w[\(j)]")
        }
        for i in p.indices {
            check(thetaBar[i] - 1, try centralDifference(p, i) { try membraneFunctional(network, t, v, w, $0, gBar, eBar) },
                  network.parameterNames[i])
        }
    }

    @Test func gateKineticsPullbackMatchesCentralDifferences() throws {
        let network = try smallNetwork()
        let nb = network.voltageCount
        var g = SeededGenerator(seed: 22)
        // Voltages across the whole physiological range, including far outside it.
        let v = (0..<nb).map { j in j == 0 ? -400 : (j == 1 ? 300 : g.nextUniform(in: -90..<60)) }
        let xBar = (0..<nb).map { _ in g.nextUniform(in: -1..<1) }
        let tauBar = (0..<nb).map { _ in g.nextUniform(in: -1..<1) }
        let p = network.defaultParameters
        var vBar = [Double](repeating: 1, count: nb)
        var thetaBar = [Double](repeating: 0, count: p.count)
        v.withUnsafeBufferPointer { vv in
            p.withUnsafeBufferPointer { pp in
                xBar.withUnsafeBufferPointer { xb in
                    tauBar.withUnsafeBufferPointer { tb in
                        vBar.withUnsafeMutableBufferPointer { vb in
                            thetaBar.withUnsafeMutableBufferPointer { pb in
                                network.accumulateGateKineticsPullback(
                                    at: 0, voltages: vv, parameters: pp, steadyStateCotangent: xb, timeConstantCotangent: tb,
                                    voltageCotangent: vb, parameterCotangent: pb)
                            }
                        }
                    }
                }
            }
        }
        for j in 0..<nb {
            let reference = try centralDifference(v, j) { try gateFunctional(network, $0, p, xBar, tauBar) }
            #expect(abs((vBar[j] - 1) - reference) <= 1e-7 * max(1e-3, abs(reference)), "V[\(j)]: \(vBar[j] - 1) fd \(reference)")
        }
        #expect(thetaBar.allSatisfy { $0 == 0 }, "the gate constants are not network parameters")
    }
}
