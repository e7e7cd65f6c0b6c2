import CKernels
import Foundation
import Testing
@testable import NeuroODE

/// A small network with random weights and a two-token input, for the model tests.
private func makeNetwork(
    neurons n: Int = 5, inputs m: Int = 3, batch b: Int = 4, weightScale: Double = 0.5, seed: UInt64 = 11
) throws -> MorrisLecarNetwork {
    var g = SeededGenerator(seed: seed)
    let input = try TokenSequenceInput.random(
        channels: m, vocabularySize: 3, length: 4, batchSize: b, tokenDuration: 2, seed: seed)
    let wIn = (0..<(n * m)).map { _ in g.nextUniform(in: -weightScale..<weightScale) }
    let wRec = (0..<(n * n)).map { _ in g.nextUniform(in: -weightScale..<weightScale) }
    let bias = (0..<n).map { _ in g.nextUniform(in: 0..<0.2) }
    let v0 = (0..<(n * b)).map { _ in g.nextUniform(in: -70..<40) }
    let w0 = (0..<(n * b)).map { _ in g.nextUniform(in: 0..<0.6) }
    return try MorrisLecarNetwork(
        neurons: n, input: input, inputWeights: wIn, recurrentWeights: wRec, bias: bias, initialState: v0 + w0)
}


/// The same input without its token structure, which sends a network down the dense path.
struct DenseOnlyInput: InputSignal {
    let base: TokenSequenceInput
    var channels: Int { base.channels }
    var batchSize: Int { base.batchSize }
    var segmentCount: Int { base.segmentCount }
    func segmentIndex(at t: Double) -> Int { base.segmentIndex(at: t) }
    func writeSegment(_ index: Int, into values: UnsafeMutableBufferPointer<Double>) { base.writeSegment(index, into: values) }
}

extension MorrisLecarNetwork {
    /// This network with its token input wrapped in ``DenseOnlyInput``.
    func withDenseInput() throws -> MorrisLecarNetwork {
        let p = defaultParameters
        return try MorrisLecarNetwork(
            neurons: neurons, input: DenseOnlyInput(base: input as! TokenSequenceInput),
            inputWeights: Array(p[0..<recurrentWeightsOffset]), recurrentWeights: Array(p[recurrentWeightsOffset..<biasOffset]),
            bias: Array(p[biasOffset..<gainIndex]), gain: p[gainIndex], biasCurrent: p[biasCurrentIndex],
            initialState: defaultInitialState)
    }
}

/// Array-in, array-out wrapper of the right-hand side (network and neural-ODE tests).
extension ODESystem {
    func networkTestRightHandSide(_ t: Double, _ y: [Double], _ p: [Double]) throws -> [Double] {
        var out = [Double](repeating: 0, count: dimension)
        try y.withUnsafeBufferPointer { yy in
            try p.withUnsafeBufferPointer { pp in
                try out.withUnsafeMutableBufferPointer { try evaluateRightHandSide(at: t, state: yy, parameters: pp, into: $0) }
            }
        }
        return out
    }
}

/// Array-in, array-out wrappers over the conductance-based protocol methods (network tests only).
extension ConductanceBasedSystem {
    func networkTestMembrane(_ t: Double, _ v: [Double], _ w: [Double], _ p: [Double]) throws -> (g: [Double], e: [Double]) {
        var g = [Double](repeating: 0, count: v.count), e = g
        try v.withUnsafeBufferPointer { vv in
            try w.withUnsafeBufferPointer { ww in
                try p.withUnsafeBufferPointer { pp in
                    try g.withUnsafeMutableBufferPointer { gg in
                        try e.withUnsafeMutableBufferPointer { ee in
                            try evaluateMembraneCoefficients(at: t, voltages: vv, gates: ww, parameters: pp, conductance: gg, drive: ee)
                        }
                    }
                }
            }
        }
        return (g, e)
    }

    func networkTestGates(_ t: Double, _ v: [Double], _ p: [Double]) throws -> (inf: [Double], tau: [Double]) {
        let count = dimension - voltageCount
        var inf = [Double](repeating: 0, count: count), tau = inf
        try v.withUnsafeBufferPointer { vv in
            try p.withUnsafeBufferPointer { pp in
                try inf.withUnsafeMutableBufferPointer { a in
                    try tau.withUnsafeMutableBufferPointer { b in
                        try evaluateGateKinetics(at: t, voltages: vv, parameters: pp, steadyState: a, timeConstant: b)
                    }
                }
            }
        }
        return (inf, tau)
    }
}

@Suite struct NetworkKineticsTests {
    /// The kernels' branch-free exponential, seen through the logistic 1/(1 + e^y) they build on
    /// it (in its tail the logistic is e^{−y}, so its relative error is the exponential's), against
    /// the C library's over the whole clamped range.
    @Test func kernelExponentialMatchesLibm() {
        var ys = Array(stride(from: -700.0, through: 700.0, by: 0.0137)) + Array(stride(from: -1.0, through: 1.0, by: 1e-4))
        ys += [0, -1e6, 1e6, .nan]
        var out = [Double](repeating: 0, count: ys.count)
        nk_logistic_f64(ys, &out, ys.count, 0, 1)
        var worst = 0.0
        for (y, value) in zip(ys, out).dropLast(3) {
            let exact = 1 / (1 + Foundation.exp(y))
            worst = max(worst, abs(value - exact) / exact)
        }
        #expect(worst < 1.2e-15, "worst relative error \(worst)")
        // y = −1e6 clamps to e^−708 (T rounds to 1), y = 1e6 to e^709 (T ≈ 1e−308, still positive).
        #expect(out[out.count - 3] == 1 && out[out.count - 2] > 0 && out[out.count - 2].isFinite)
        #expect(out.last!.isNaN)
    }

    /// The one-exponential rate functions against MorrisLecar's tanh/cosh ones, across voltages
    /// far beyond the physiological range.
    @Test func rateIdentitiesMatchMorrisLecar() throws {
        for preset in MorrisLecar.Preset.allCases {
            let single = MorrisLecar(preset: preset)
            let k = NetworkKinetics(Array(single.defaultParameters.prefix(12)))
            let p = single.defaultParameters
            for v in stride(from: -300.0, through: 300.0, by: 0.37) {
                var wInf = 0.0, tau = 0.0, voltage = v, constants = k.kernelConstants
                nk_ml_gate_kinetics_f64(&voltage, &wInf, &tau, 1, &constants)
                let reference = try single.networkTestGates(0, [v], p)
                #expect(abs(wInf - reference.inf[0]) <= 1e-14)
                #expect(abs(tau - reference.tau[0]) <= 1e-13 * reference.tau[0])
                let mInf = 0.5 * (1 + tanh((v - p[7]) / p[8]))
                var activation = 0.0
                nk_logistic_f64(&voltage, &activation, 1, p[7], -2 / p[8])
                #expect(abs(activation - mInf) <= 1e-14)
                for w in [0.0, 0.3, 0.9] {
                    var gate = w, current = 0.0, rate = 0.0, constant = 0.0
                    nk_ml_right_hand_side_f64(&voltage, &gate, &current, &rate, 1, 1, &constant, &constants)
                    let expected = (reference.inf[0] - w) / reference.tau[0]
                    #expect(abs(rate - expected) <= 1e-13 * max(1, abs(expected)))
                }
            }
        }
    }
}

@Suite struct NetworkModelTests {
    /// With W_in = W_rec = 0 every compartment is a lone Morris–Lecar neuron driven by the
    /// constant current I_bias + gain·bias_i: right-hand side, gate kinetics and membrane
    /// coefficients must agree with ``MorrisLecar`` compartment by compartment.
    @Test func uncoupledNetworkIsIndependentNeurons() throws {
        let n = 3, b = 4
        let net = try makeNetwork(neurons: n, batch: b)
        var p = net.defaultParameters
        for k in 0..<net.biasOffset { p[k] = 0 }
        let y = net.defaultInitialState
        let dydt = try net.networkTestRightHandSide(1, y, p)
        let (g, e) = try net.networkTestMembrane(1, Array(y[0..<(n * b)]), Array(y[(n * b)...]), p)
        let (wInf, tau) = try net.networkTestGates(1, Array(y[0..<(n * b)]), p)
        for i in 0..<n {
            let current = p[net.biasCurrentIndex] + p[net.gainIndex] * p[net.biasOffset + i]
            let single = MorrisLecar(preset: .snic, current: current)
            for trial in 0..<b {
                let j = i * b + trial
                let reference = try evaluateSingle(single, v: y[j], w: y[n * b + j])
                #expect(abs(dydt[j] - reference.dydt[0]) <= 1e-12 * max(1, abs(reference.dydt[0])))
                #expect(abs(dydt[n * b + j] - reference.dydt[1]) <= 1e-12 * max(1e-3, abs(reference.dydt[1])))
                #expect(abs(g[j] - reference.g) <= 1e-12 * reference.g)
                #expect(abs(e[j] - reference.e) <= 1e-12 * max(1, abs(reference.e)))
                #expect(abs(wInf[j] - reference.wInf) <= 1e-14)
                #expect(abs(tau[j] - reference.tau) <= 1e-12 * reference.tau)
            }
        }
    }

    private func evaluateSingle(_ single: MorrisLecar, v: Double, w: Double) throws
        -> (dydt: [Double], g: Double, e: Double, wInf: Double, tau: Double)
    {
        let p = single.defaultParameters
        let dydt = try single.networkTestRightHandSide(0, [v, w], p)
        let (g, e) = try single.networkTestMembrane(0, [v], [w], p)
        let (wInf, tau) = try single.networkTestGates(0, [v], p)
        return (dydt, g[0], e[0], wInf[0], tau[0])
    }

    /// The dgemm-based current against a naive triple loop, through the conductance form:
    /// E must equal gL·VL + gCa m∞ VCa + gK w VK + I with I summed entry by entry, and the
    /// right-hand side must equal (E − G·V)/C and (w∞ − w)/τ.
    @Test func matrixProductCurrentMatchesNaiveLoopsAndConductanceForm() throws {
        let n = 6, m = 3, b = 5
        let net = try makeNetwork(neurons: n, inputs: m, batch: b, weightScale: 1.5)
        let p = net.defaultParameters, y = net.defaultInitialState, c = net.neuronConstants
        let t = 3.1  // inside the second token
        let input = net.input as! TokenSequenceInput
        #expect(input.segmentIndex(at: t) == 1)
        let dydt = try net.networkTestRightHandSide(t, y, p)
        let (g, e) = try net.networkTestMembrane(t, Array(y[0..<(n * b)]), Array(y[(n * b)...]), p)
        let (wInf, tau) = try net.networkTestGates(t, Array(y[0..<(n * b)]), p)
        let synapse = SynapticOutput.authorsNetwork
        for i in 0..<n {
            for trial in 0..<b {
                let j = i * b + trial
                var current = p[net.biasOffset + i]
                for k in 0..<m {
                    let token = input.sequences[trial][1]
                    current += p[i * m + k] * input.vocabulary[token * m + k]
                }
                for k in 0..<n { current += p[net.recurrentWeightsOffset + i * n + k] * synapse.value(y[k * b + trial]) }
                current = p[net.biasCurrentIndex] + p[net.gainIndex] * current
                let v = y[j], w = y[n * b + j]
                let mInf = 0.5 * (1 + tanh((v - c[7]) / c[8]))
                let expectedG = c[1] + c[2] * mInf + c[3] * w
                let expectedE = c[1] * c[4] + c[2] * mInf * c[5] + c[3] * w * c[6] + current
                #expect(abs(g[j] - expectedG) <= 1e-12 * expectedG)
                #expect(abs(e[j] - expectedE) <= 1e-12 * max(1, abs(expectedE)))
                #expect(abs(dydt[j] - (e[j] - g[j] * v) / c[0]) <= 1e-12 * max(1, abs(dydt[j])))
                #expect(abs(dydt[n * b + j] - (wInf[j] - w) / tau[j]) <= 1e-12 * max(1e-3, abs(dydt[n * b + j])))
            }
        }
    }

    /// Leapfrog on the uncoupled network against leapfrog on each lone neuron: same scheme,
    /// same current, so the trajectories agree to rounding (the rate functions differ in the
    /// last bits only) over 200 ms of spiking.
    @Test func uncoupledLeapfrogMatchesSingleNeurons() throws {
        let n = 2, b = 3
        let net = try makeNetwork(neurons: n, batch: b)
        var p = net.defaultParameters
        for k in 0..<net.biasOffset { p[k] = 0 }
        let final = try net.simulate(parameters: p, timeSpan: (0, 200), stepSize: 0.1, threads: 1)
        for i in 0..<n {
            let current = p[net.biasCurrentIndex] + p[net.gainIndex] * p[net.biasOffset + i]
            for trial in 0..<b {
                let j = i * b + trial
                let problem = try ODEProblem(
                    system: MorrisLecar(preset: .snic, current: current),
                    initialState: [net.defaultInitialState[j], net.defaultInitialState[n * b + j]], timeSpan: (0, 200))
                let single = try Leapfrog(stepSize: 0.1).solve(problem, output: .finalState).finalState
                #expect(abs(final[j] - single[0]) < 1e-8, "V of neuron \(i), trial \(trial)")
                #expect(abs(final[n * b + j] - single[1]) < 1e-10)
            }
        }
    }

    /// Splitting the batch into parts (uneven ones included) and merging gives the unsplit
    /// result bit for bit, whatever the thread count, for token and dense inputs alike.
    @Test func batchSplitIsBitIdentical() throws {
        let net = try makeNetwork(neurons: 4, batch: 12, weightScale: 1)
        #expect(net.maximumParts == 4)  // 3 tokens: parts keep at least 3 trials
        let dense = try net.withDenseInput()
        #expect(dense.maximumParts == 12)
        for network in [net, dense] {
            let whole = try network.simulate(timeSpan: (0, 30), stepSize: 0.1, threads: 1)
            for threads in [2, 3, 5, 12] {
                #expect(try network.simulate(timeSpan: (0, 30), stepSize: 0.1, threads: threads) == whole)
            }
            // Each part, solved on its own, is the corresponding block of the whole.
            let parts = try network.splitBatch(into: 3)
            let states = try network.splitState(network.defaultInitialState, into: 3)
            #expect(try network.mergeStates(states) == network.defaultInitialState)
            var finals: [[Double]] = []
            for (part, state) in zip(parts, states) {
                #expect(part.defaultInitialState == state)
                let problem = try ODEProblem(system: part, initialState: state, timeSpan: (0, 30))
                finals.append(try Leapfrog(stepSize: 0.1).solve(problem, output: .finalState).finalState)
            }
            #expect(try network.mergeStates(finals) == whole)
            #expect(parts.map(\.firstTrial) == [0, 4, 8])
        }
    }

    /// At the benchmark's size (N = 128, B = 64, K = 5 tokens): 1, 2 and 3 threads agree bit for bit.
    @Test func fullSizeThreadCountsAreBitIdentical() throws {
        let input = try TokenSequenceInput.random(channels: 50, vocabularySize: 5, length: 2, batchSize: 64, tokenDuration: 3, seed: 4)
        let net = try MorrisLecarNetwork.seeded(neurons: 128, input: input, seed: 4)
        let one = try net.simulate(timeSpan: (0, 5), stepSize: 0.1, threads: 1)
        #expect(try net.simulate(timeSpan: (0, 5), stepSize: 0.1, threads: 2) == one)
        #expect(try net.simulate(timeSpan: (0, 5), stepSize: 0.1, threads: 3) == one)
    }

    /// The token path (W_in·vocabularyᵀ, gathered) and the dense path (W_in·U) are two
    /// evaluations of the same input term: they agree to rounding.
    @Test func tokenAndDenseInputPathsAgree() throws {
        let net = try makeNetwork(neurons: 6, batch: 5, weightScale: 1.5)
        let dense = try net.withDenseInput()
        guard case .tokens = net.inputTable, case .dense = dense.inputTable else {
            Issue.record("expected one network per input path")
            return
        }
        for t in [0.5, 3.1, 7.9] {
            let a = try net.networkTestRightHandSide(t, net.defaultInitialState, net.defaultParameters)
            let b = try dense.networkTestRightHandSide(t, dense.defaultInitialState, dense.defaultParameters)
            for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-12 * max(1, abs(y))) }
        }
        let a = try net.simulate(timeSpan: (0, 8), threads: 1), b = try dense.simulate(timeSpan: (0, 8), threads: 1)
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-8 * max(1, abs(y))) }
    }

    /// SPEC's initialisation: ranges, the 20 % of W_rec entries at 0.001, V0 ~ −20 + N(0, 5²).
    @Test func seededInitialisationStatistics() throws {
        let n = 128, b = 64
        let input = try TokenSequenceInput.random(channels: 50, vocabularySize: 5, length: 3, batchSize: b, tokenDuration: 6, seed: 1)
        let net = try MorrisLecarNetwork.seeded(neurons: n, input: input, seed: 9)
        let p = net.defaultParameters
        let h = 1 / Double(n).squareRoot()
        let wIn = p[0..<net.recurrentWeightsOffset], wRec = p[net.recurrentWeightsOffset..<net.biasOffset]
        #expect(wIn.allSatisfy { $0 >= 0.1 - h && $0 < 0.1 + h })
        #expect(wRec.allSatisfy { $0 >= 0.001 - h && $0 < 0.001 + h })
        let reset = Double(wRec.filter { $0 == 0.001 }.count) / Double(wRec.count)
        #expect(abs(reset - 0.2) < 1e-4)
        // U(c ± h) has mean c and standard deviation h/√3.
        let meanIn = wIn.reduce(0, +) / Double(wIn.count)
        #expect(abs(meanIn - 0.1) < 5 * h / 3.0.squareRoot() / Double(wIn.count).squareRoot())
        let v0 = net.defaultInitialState[0..<(n * b)]
        let meanV = v0.reduce(0, +) / Double(v0.count)
        let sdV = (v0.map { ($0 - meanV) * ($0 - meanV) }.reduce(0, +) / Double(v0.count - 1)).squareRoot()
        #expect(abs(meanV + 20) < 5 * 5 / Double(v0.count).squareRoot())
        #expect(abs(sdV - 5) < 5 * 5 / (2 * Double(v0.count)).squareRoot())
        #expect(net.defaultInitialState[(n * b)...].allSatisfy { $0 == MorrisLecarNetwork.restingGate })
        #expect(p[net.biasOffset..<net.gainIndex].allSatisfy { $0 == 0.1 })
        #expect(p[net.gainIndex] == 36.75 && p[net.biasCurrentIndex] == 39.9)
        #expect(net.parameterNames.count == p.count)
        #expect(net.parameterNames[1] == "W_in[0,1]" && net.parameterNames[net.recurrentWeightsOffset] == "W_rec[0,0]")
        // Same seed, same network; the weights do not depend on the batch size.
        let small = try MorrisLecarNetwork.seeded(
            neurons: n, input: TokenSequenceInput.random(channels: 50, vocabularySize: 5, length: 3, batchSize: 2, tokenDuration: 6, seed: 1),
            seed: 9)
        #expect(small.defaultParameters == p)
    }

    @Test func dimensionMismatchesAreRejected() throws {
        let input = try TokenSequenceInput.random(channels: 3, vocabularySize: 2, length: 2, batchSize: 2, tokenDuration: 1, seed: 1)
        func expectMismatch(_ body: () throws -> Void) {
            #expect {
                try body()
            } throws: { error in
                if case .dimensionMismatch = error as? ODEError { return true }
                return false
            }
        }
        expectMismatch { _ = try MorrisLecarNetwork(neurons: 2, input: input, inputWeights: [0, 0, 0], recurrentWeights: [0, 0, 0, 0]) }
        expectMismatch { _ = try MorrisLecarNetwork(neurons: 2, input: input, inputWeights: .init(repeating: 0, count: 6), recurrentWeights: [0, 0, 0]) }
        expectMismatch {
            _ = try MorrisLecarNetwork(
                neurons: 2, input: input, inputWeights: .init(repeating: 0, count: 6), recurrentWeights: [0, 0, 0, 0], bias: [0.1])
        }
        expectMismatch {
            _ = try MorrisLecarNetwork(
                neurons: 2, input: input, inputWeights: .init(repeating: 0, count: 6), recurrentWeights: [0, 0, 0, 0],
                initialState: [0, 0, 0])
        }
        expectMismatch { _ = try MorrisLecarNetwork(neurons: 0, input: input, inputWeights: [], recurrentWeights: []) }
        let net = try MorrisLecarNetwork(neurons: 2, input: input, inputWeights: .init(repeating: 0, count: 6), recurrentWeights: [0, 0, 0, 0])
        expectMismatch { _ = try net.splitBatch(into: 0) }
        expectMismatch { _ = try net.splitBatch(into: 3) }  // 2 trials, 2 tokens: at most 1 part
        expectMismatch { _ = try net.splitState([1, 2, 3], into: 1) }
        expectMismatch { _ = try net.mergeStates([[1, 2, 3], [4]]) }
        expectMismatch { _ = try net.simulate(initialState: [0], timeSpan: (0, 1), threads: 1) }
        expectMismatch { _ = try net.simulate(parameters: [0], timeSpan: (0, 1), threads: 1) }
        expectMismatch { _ = try TokenSequenceInput(vocabulary: [0, 1, 0], channels: 2, sequences: [[0]], tokenDuration: 1) }
        expectMismatch { _ = try TokenSequenceInput(vocabulary: [0, 1], channels: 2, sequences: [[0], [0, 0]], tokenDuration: 1) }
        expectMismatch { _ = try TokenSequenceInput(vocabulary: [0, 1], channels: 2, sequences: [[1]], tokenDuration: 1) }
    }

    /// A NaN in the input is refused when the network is built, naming the entry.
    @Test func nonFiniteInputIsRejected() throws {
        let input = try TokenSequenceInput(vocabulary: [0, .nan, 0.2, 0], channels: 2, sequences: [[0, 1], [1, 1]], tokenDuration: 1)
        #expect {
            _ = try MorrisLecarNetwork(neurons: 1, input: input, inputWeights: [1, 1], recurrentWeights: [0])
        } throws: { error in
            guard case let .invalidParameter(name, value, _) = error as? ODEError else { return false }
            return name == "input value #1" && value.isNaN
        }
    }

    /// A non-finite state mid-run is an error naming the step, not a silent NaN.
    @Test func blowUpIsReported() throws {
        let net = try makeNetwork(neurons: 2, batch: 2)
        var p = net.defaultParameters
        // Finite parameters whose current I_bias + gain·bias overflows to infinity.
        p[net.biasCurrentIndex] = 1.7e308
        p[net.gainIndex] = 1e308
        #expect(throws: ODEError.nonFiniteState(time: 0.1, step: 1, model: "ml-network")) {
            _ = try net.simulate(parameters: p, timeSpan: (0, 1), stepSize: 0.1, threads: 2)
        }
    }
}

@Suite struct NetworkInputTests {
    @Test func tokenSequenceLayoutAndSegments() throws {
        let input = try TokenSequenceInput(
            vocabulary: [1, 2, 3, 4, 5, 6], channels: 2, sequences: [[0, 2, 1], [1, 1, 0]], tokenDuration: 6)
        #expect(input.segmentIndex(at: -1) == 0)
        #expect(input.segmentIndex(at: 5.99) == 0)
        #expect(input.segmentIndex(at: 6) == 1)
        #expect(input.segmentIndex(at: 17.9) == 2)
        #expect(input.segmentIndex(at: 1e9) == 2)
        var u = [Double](repeating: 0, count: 4)
        u.withUnsafeMutableBufferPointer { input.writeValues(at: 7, into: $0) }
        // Channel-major, trials contiguous: trial 0 holds token 2 = (5, 6), trial 1 token 1 = (3, 4).
        #expect(u == [5, 3, 6, 4])
        #expect(input.segmentTable().count == 3 * 4)
        let constant = try ConstantInput(values: [0.5, -1], batchSize: 3)
        #expect(constant.segmentTable() == [0.5, 0.5, 0.5, -1, -1, -1])
    }

    @Test func randomTokensAreBinaryAndHalfOnes() throws {
        let input = try TokenSequenceInput.random(channels: 50, vocabularySize: 40, length: 10, batchSize: 3, tokenDuration: 6, seed: 5)
        #expect(input.vocabulary.allSatisfy { $0 == 0 || $0 == 0.2 })
        let ones = Double(input.vocabulary.filter { $0 == 0.2 }.count) / Double(input.vocabulary.count)
        #expect(abs(ones - 0.5) < 5 * 0.5 / Double(input.vocabulary.count).squareRoot())
    }
}

@Suite struct NetworkWithoutInputTests {
    /// M = 0 (no input channels): the network runs on its bias current alone and splits freely.
    @Test func inputFreeNetworkRunsAndSplits() throws {
        let input = try ConstantInput(values: [], batchSize: 4)
        let net = try MorrisLecarNetwork(neurons: 3, input: input, inputWeights: [], recurrentWeights: .init(repeating: 0.1, count: 9))
        #expect(net.maximumParts == 4)
        let one = try net.simulate(timeSpan: (0, 5), threads: 1)
        #expect(try net.simulate(timeSpan: (0, 5), threads: 4) == one)
        #expect(one.allSatisfy { $0.isFinite })
    }
}
