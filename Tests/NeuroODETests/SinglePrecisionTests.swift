import CKernels
import Foundation
import Testing
@testable import NeuroODE

/// The float32 leapfrog (``Leapfrog/precision``) against the float64 one and against SciPy: the
/// scheme is the same, so the two may differ only by float32 rounding, far below the scheme's own
/// error at Δt = 0.1 ms.
@Suite("float32 leapfrog")
struct SinglePrecisionTests {
    /// A seeded evidence-shaped network: N = 16 neurons, 5 tokens of 50 channels, B = 4 trials.
    static func network(neurons: Int = 16, batch: Int = 4) throws -> MorrisLecarNetwork {
        let input = try TokenSequenceInput.random(channels: 50, vocabularySize: 5, length: 50, batchSize: batch, tokenDuration: 6, seed: 3)
        return try MorrisLecarNetwork.seeded(neurons: neurons, input: input, seed: 3)
    }

    static func solve(_ system: some ODESystem, _ precision: Precision, span: Double, spikes: Bool = true) throws -> Solution {
        let problem = try ODEProblem(system: system, timeSpan: (0, span))
        return try Leapfrog(stepSize: 0.1, precision: precision).solve(
            problem, output: .finalState, spikes: spikes ? SpikeDetection(threshold: 0) : nil)
    }

    /// 300 ms of the network (16 × 4 compartments, about 40 spikes per trial): every neuron fires
    /// the same number of spikes in both precisions, at times within 0.05 ms (the scheme's own
    /// error at Δt = 0.1 is about 0.1 ms, NetworkReferenceTests), and the final voltages agree to
    /// 0.5 mV (a spike's upstroke moves 0.5 mV in 0.005 ms).
    @Test func networkSpikeTimesMatchFloat64() throws {
        let net = try Self.network()
        let double = try Self.solve(net, .f64, span: 300), single = try Self.solve(net, .f32, span: 300)
        var largest = 0.0, count = 0
        for (a, b) in zip(double.spikeTimes, single.spikeTimes) {
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) { largest = max(largest, abs(x - y)) }
            count += a.count
        }
        #expect(count > 100, "the test needs spikes: \(count)")
        #expect(largest < 0.05, "largest spike-time difference \(largest) ms")
        let voltages = net.compartments
        let dv = (0..<voltages).map { abs(double.finalState[$0] - single.finalState[$0]) }.max()!
        #expect(dv < 0.5, "largest final voltage difference \(dv) mV")
    }

    /// The single neuron (hopf, I = 100, on its limit cycle) over 1 s: the same 11 spikes within
    /// 0.05 ms — float32 rounding drifts the cycle's phase by a few hundredths of a millisecond a
    /// second, below the scheme's own spike-time error at Δt = 0.1 (0.09 ms after a second, ``Leapfrog``).
    @Test func singleNeuronSpikeTimesMatchFloat64() throws {
        let system = MorrisLecar(preset: .hopf, current: 100)
        let problem = try ODEProblem(system: system, initialState: [-41.84, 0.5282], timeSpan: (0, 1000))
        let double = try Leapfrog(precision: .f64).solve(problem, output: .finalState, spikes: SpikeDetection(threshold: 0))
        let single = try Leapfrog(precision: .f32).solve(problem, output: .finalState, spikes: SpikeDetection(threshold: 0))
        #expect(double.spikeTimes[0].count >= 10)
        #expect(double.spikeTimes[0].count == single.spikeTimes[0].count)
        let largest = zip(double.spikeTimes[0], single.spikeTimes[0]).map { abs($0 - $1) }.max()!
        #expect(largest < 0.05, "largest spike-time difference \(largest) ms")
    }

    /// Output at requested times and every-step output are interpolated from the float32 state the
    /// same way as in float64.
    @Test func outputsFollowTheFloat64Path() throws {
        let net = try Self.network(neurons: 4, batch: 2)
        let problem = try ODEProblem(system: net, timeSpan: (0, 50))
        let times = [0.0, 12.345, 25, 50]
        let double = try Leapfrog(precision: .f64).solve(problem, output: .times(times))
        let single = try Leapfrog(precision: .f32).solve(problem, output: .times(times))
        #expect(single.times == times)
        for (a, b) in zip(double.states, single.states) { #expect(abs(a - b) <= 1e-2 * max(1, abs(a))) }
        let every = try Leapfrog(precision: .f32).solve(problem, output: .everyStep(1))
        #expect(every.times.count == 501)
    }

    /// Systems without single-precision kernels refuse float32 before integrating.
    @Test func otherSystemsRefuse() throws {
        let problem = try ODEProblem(system: HodgkinHuxley(), timeSpan: (0, 10))
        #expect(throws: ODEError.self) { try Leapfrog(precision: .f32).solve(problem, output: .finalState) }
    }

    /// A state that leaves the finite range is reported with its time and step, as in float64.
    @Test func nonFiniteStateIsReported() throws {
        let net = try Self.network(neurons: 4, batch: 2)
        var p = net.defaultParameters
        p[net.gainIndex] = 1e38
        let problem = try ODEProblem(system: net, parameters: p, timeSpan: (0, 20))
        #expect(throws: ODEError.self) { try Leapfrog(precision: .f32).solve(problem, output: .finalState) }
    }
}

/// The network kernels (NeuroODEKernels.h) against the closed forms SPEC writes with tanh and cosh.
@Suite("network kernels")
struct NetworkKernelTests {
    static let constants = Array(MorrisLecar(preset: .snic).defaultParameters.prefix(12))

    /// The float32 gate kinetics (the float64 ones are NetworkModelTests.rateIdentitiesMatchMorrisLecar).
    @Test func singlePrecisionGateKineticsMatchClosedForm() {
        let c = Self.constants
        let voltages = stride(from: -120.0, through: 120.0, by: 0.37).map { $0 }
        var k = NetworkKinetics(c).kernelConstants
        var wInf32 = [Float](repeating: 0, count: voltages.count), tau32 = wInf32
        let v32 = voltages.map(Float.init)
        nk_ml_gate_kinetics_f32(v32, &wInf32, &tau32, voltages.count, &k)
        for (j, v) in voltages.enumerated() {
            let exactW = 0.5 * (1 + tanh((v - c[9]) / c[10]))
            let exactTau = 1 / (c[11] * cosh((v - c[9]) / (2 * c[10])))
            #expect(abs(Double(wInf32[j]) - exactW) <= 1e-6 * max(exactW, 1e-3), "w∞32(\(v))")
            #expect(abs(Double(tau32[j]) - exactTau) <= 1e-6 * exactTau, "τ32(\(v))")
        }
    }

    @Test func logisticMatchesClosedForm() {
        let voltages = stride(from: -400.0, through: 400.0, by: 0.73).map { $0 } + [.nan]
        var out = [Double](repeating: 0, count: voltages.count)
        // float32: T is what the leapfrog's midpoint kernel writes (slope 0: V_mid = V).
        var out32 = [Float](repeating: 0, count: voltages.count), last = out32, mid = out32
        nk_logistic_f64(voltages, &out, voltages.count, -3, -1.0 / 8)
        nk_ml_midpoint_f32(voltages.map(Float.init), &last, &mid, &out32, voltages.count, 0, -3, -1.0 / 8)
        for (j, v) in voltages.enumerated().dropLast() {
            let exact = 1 / (1 + exp(-(v + 3) / 8))
            #expect(abs(out[j] - exact) <= 4e-16 * exact + 1e-300, "T(\(v))")
            // float32 rounds the argument y = (V + 3)/8 itself by |y|·6e-8, which T's tail amplifies.
            let y = abs((v + 3) / 8)
            #expect(abs(Double(out32[j]) - exact) <= (1e-6 + 2e-7 * y) * exact + 1e-37, "T32(\(v))")
        }
        #expect(out.last!.isNaN && out32.last!.isNaN)
    }

    /// tanh against libm: relative error below 1e-15 from subnormal to saturated arguments.
    @Test func tanhMatchesLibm() {
        var xs: [Double] = [0, -0.0, 1e-300, -1e-300, 1e-10, 1e-5, 0.17, 0.1733, 0.5, 1, 3, 10, 19, 20, 21, 50, 1e3, .infinity]
        xs += stride(from: -25.0, through: 25.0, by: 0.0137).map { $0 }
        xs += xs.map { -$0 }
        var out = [Double](repeating: 0, count: xs.count)
        nk_tanh_f64(xs, &out, xs.count)
        for (x, y) in zip(xs, out) {
            let exact = tanh(x)
            #expect(abs(y - exact) <= 1e-15 * abs(exact), "tanh(\(x)) = \(y), libm \(exact)")
        }
        var nan = [Double.nan]
        nk_tanh_f64(nan, &nan, 1)
        #expect(nan[0].isNaN)
    }
}
