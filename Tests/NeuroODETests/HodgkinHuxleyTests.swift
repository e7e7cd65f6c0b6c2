import Foundation
import Testing
@testable import NeuroODE

/// Hodgkin–Huxley: spike times against SciPy (Validation/hh_reference.py), the removable
/// singularities of αm and αn, and the hand-written derivatives against central differences.
@Suite struct HodgkinHuxleyTests {
    typealias Support = LeapfrogModelsTestSupport

    struct Reference: Decodable {
        struct Stability: Decodable {
            var restVoltage: Double
            var maxRealEigenvalue: Double
        }
        var current: Double
        var initialState: [Double]
        var spikeWindow: [Double]
        var spikeTimes: [Double]
        var lateRateHz: Double
        var restStability: [String: Stability]
    }

    @Test func defaultsMatchTheReferenceSetUp() throws {
        let reference: Reference = try Support.reference("hh_reference")
        let system = HodgkinHuxley()
        #expect(system.name == "hodgkin-huxley")
        #expect(system.defaultParameters == [1, 120, 36, 0.3, 50, -77, -54.387, 10])
        #expect(system.defaultParameters[7] == reference.current)
        for (mine, theirs) in zip(system.defaultInitialState, reference.initialState) {
            #expect(abs(mine - theirs) <= 1e-14)
        }
        // Gates at steady state: their derivatives vanish at the initial state.
        let rate = try Support.rightHandSide(system, system.defaultInitialState, system.defaultParameters)
        for j in 1...3 { #expect(abs(rate[j]) < 1e-15) }
        // The default current lies past the loss of stability of rest (documented choice).
        #expect(reference.restStability["9.0"]!.maxRealEigenvalue < 0)
        #expect(reference.restStability["10.0"]!.maxRealEigenvalue > 0)
    }

    /// The leapfrog is second order on HH (no instantaneous terms), so spike-time errors fall by
    /// about 100 from dt = 0.1 to 0.01 (measured 98). Over the 14 spikes of 200 ms the phase error
    /// accumulates; measured maxima are 2.3e-3 ms at dt = 0.01 and 0.23 ms at dt = 0.1. Bars:
    /// 0.01 ms and 0.5 ms (about 2 % of the 14.6 ms interspike interval), and a ratio above 30.
    @Test func spikeTimesMatchSciPy() throws {
        let reference: Reference = try Support.reference("hh_reference")
        let problem = try ODEProblem(system: HodgkinHuxley(), timeSpan: (reference.spikeWindow[0], reference.spikeWindow[1]))
        var worst: [Double] = []
        for (dt, bar) in [(0.01, 0.01), (0.1, 0.5)] {
            let solution = try Leapfrog(stepSize: dt).solve(problem, output: .finalState, spikes: SpikeDetection(threshold: 0))
            let spikes = solution.spikeTimes[0]
            try #require(spikes.count == reference.spikeTimes.count, "dt = \(dt): \(spikes.count) spikes vs \(reference.spikeTimes.count)")
            let error = zip(spikes, reference.spikeTimes).map { abs($0 - $1) }.max()!
            #expect(error <= bar, "dt = \(dt): max spike-time error \(error) ms")
            worst.append(error)
        }
        #expect(worst[1] / worst[0] > 30, "error ratio \(worst[1] / worst[0]) for a tenfold step")
        #expect(reference.lateRateHz > 60 && reference.lateRateHz < 75)
    }

    /// αm = f((V + 40)/10), αn = 0.1 f((V + 55)/10) with f(u) = u/(1 − e⁻ᵘ): exactly at the
    /// singular voltages they equal the limits 1 and 0.1, and they are continuous there and across
    /// the switch between the series and the closed form (|u| = 0.1, i.e. 1 mV away).
    @Test func rateSingularitiesAreRemoved() throws {
        let atM = HodgkinHuxley.Rates(v: -40), atN = HodgkinHuxley.Rates(v: -55)
        #expect(atM.alphaM == 1)
        #expect(atN.alphaN == 0.1)
        #expect(atM.slopes.alphaM == 0.05)  // f′(0) = ½, times du/dV = 1/10
        #expect(atN.slopes.alphaN == 0.005)

        // Independent evaluation: u/(1 − e⁻ᵘ) in plain arithmetic is accurate where |u| is not tiny.
        func plain(_ u: Double) -> Double { u / (1 - exp(-u)) }
        for (center, scale, pick) in [(-40.0, 1.0, \HodgkinHuxley.Rates.alphaM), (-55.0, 0.1, \HodgkinHuxley.Rates.alphaN)] {
            for offset in [1e-9, 1e-6, 1e-3, 0.5, 0.999_999, 1.0, 1.000_001, 3.0] {
                for sign in [-1.0, 1.0] {
                    let v = center + sign * offset
                    let value = HodgkinHuxley.Rates(v: v)[keyPath: pick]
                    #expect(value.isFinite)
                    // Continuity at the singular point: α(V) = α(V*) + α′(V*)·ΔV + O(ΔV²), with
                    // f″/2 = 1/12 bounding the quadratic term, plus rounding.
                    let fromLimit = scale * (1 + 0.5 * (sign * offset) / 10)
                    let u = offset / 10
                    #expect(abs(value - fromLimit) <= scale * (u * u / 12 + 4 * .ulpOfOne), "V = \(v)")
                    if offset >= 1e-3 {
                        #expect(abs(value - scale * plain(sign * u)) <= 1e-11 * scale, "V = \(v)")
                    }
                }
            }
        }
        // Across the series/closed-form switch the slope is continuous too.
        let below = HodgkinHuxley.linearRate(0.1.nextDown), above = HodgkinHuxley.linearRate(0.1)
        #expect(abs(below.value - above.value) <= 4e-16)
        #expect(abs(below.slope - above.slope) <= 4e-15)
        let belowNegative = HodgkinHuxley.linearRate(-0.1.nextDown), aboveNegative = HodgkinHuxley.linearRate(-0.1)
        #expect(abs(belowNegative.value - aboveNegative.value) <= 4e-16)
        #expect(abs(belowNegative.slope - aboveNegative.slope) <= 4e-15)

        // The right-hand side and the leapfrog's kinetics are finite exactly at the singular voltages.
        let system = HodgkinHuxley()
        for v in [-40.0, -55.0] {
            let f = try Support.rightHandSide(system, [v, 0.3, 0.4, 0.5], system.defaultParameters)
            #expect(f.allSatisfy { $0.isFinite })
        }
        // Extreme voltages: no overflow into NaN.
        for v in [-500.0, 500.0] {
            let r = HodgkinHuxley.Rates(v: v), s = r.slopes
            #expect([r.alphaM, r.alphaN, s.alphaM, s.alphaN].allSatisfy { $0.isFinite }, "V = \(v)")
        }
    }

    @Test func derivativesMatchCentralDifferences() throws {
        let system = HodgkinHuxley()
        let p = system.defaultParameters
        let states: [[Double]] = [
            system.defaultInitialState,
            [-40, 0.3, 0.4, 0.5],  // αm's singular voltage
            [-55, 0.05, 0.6, 0.3],  // αn's singular voltage
            [-39.95, 0.2, 0.5, 0.4],  // inside the series branch
            [20, 0.9, 0.2, 0.7],
            [-80, 0.01, 0.8, 0.2],
        ]
        for y in states {
            try Support.checkDerivatives(system, state: y, parameters: p, cotangent: [0.7, -1.3, 2.1, -0.4], tolerance: 1e-7)
        }
    }

    @Test func invalidParametersAreNamed() throws {
        var p = HodgkinHuxley().defaultParameters
        p[0] = 0
        #expect(throws: ODEError.invalidParameter(name: "C", value: 0, reason: "capacitance must be positive")) {
            try ODEProblem(system: HodgkinHuxley(), parameters: p, timeSpan: (0, 1))
        }
        p = HodgkinHuxley().defaultParameters
        p[2] = -1
        #expect(throws: ODEError.invalidParameter(name: "gK", value: -1, reason: "conductances must be non-negative")) {
            try ODEProblem(system: HodgkinHuxley(), parameters: p, timeSpan: (0, 1))
        }
    }
}
