import Foundation
import Testing
@testable import NeuroODE

/// Leaky integrate-and-fire: interspike intervals against the closed form, the refractory clock,
/// and the derivatives against central differences.
///
/// From V = Vreset = EL the membrane reaches Vth after T = τ·ln(RI / (RI − (Vth − Vreset))).
/// The leapfrog applies a reset at the end of the step in which the crossing happened, so resets
/// land on the step grid: after the first spike every interval is exactly the crossing time
/// rounded up to whole steps, dt·⌈T′/dt⌉ with T′ = T + O(dt²). That gives an error in [0, dt),
/// which the tests predict step by step rather than only bounding.
@Suite struct LIFTests {
    typealias Support = LeapfrogModelsTestSupport

    static let defaults = LeakyIntegrateAndFire().defaultParameters  // [tau, EL, R, I, Vth, Vreset]

    /// τ·ln(RI / (RI − (Vth − Vreset))).
    static var analyticInterval: Double {
        let p = defaults, drive = p[2] * p[3]
        return p[0] * log(drive / (drive - (p[4] - p[5])))
    }

    static func events(_ system: LeakyIntegrateAndFire, dt: Double, end: Double) throws -> Solution {
        let problem = try ODEProblem(system: system, timeSpan: (0, end))
        return try Leapfrog(stepSize: dt).solve(problem, output: .everyStep(1))
    }

    @Test func definitionAndDefaults() {
        let plain = LeakyIntegrateAndFire(), refractory = LeakyIntegrateAndFire(refractoryPeriod: 2)
        #expect(plain.name == "lif")
        #expect(plain.parameterNames == ["tau", "EL", "R", "I", "Vth", "Vreset"])
        #expect(plain.defaultParameters == [10, -65, 10, 2, -50, -65])
        #expect(plain.dimension == 1 && plain.eventCount == 1 && plain.defaultInitialState == [-65])
        #expect(refractory.dimension == 2 && refractory.eventCount == 2 && refractory.defaultInitialState == [-65, -1])
        #expect(refractory.voltageIndices == [0])
        #expect(abs(Self.analyticInterval - 10 * log(4.0)) < 1e-14)
    }

    @Test(arguments: [0.1, 0.01, 0.001])
    func intervalMatchesClosedForm(dt: Double) throws {
        let exact = Self.analyticInterval
        let solution = try Self.events(LeakyIntegrateAndFire(), dt: dt, end: 150)
        let spikes = solution.events.filter { $0.index == 0 }.map(\.time)
        #expect(spikes.count == solution.events.count)
        try #require(spikes.count == Int(150 / exact), "\(spikes.count) spikes")
        // Each crossing is located inside its step and the integration restarts there, so the first
        // spike and every interval carry the scheme's O(dt²) error, not a step-end rounding.
        #expect(abs(spikes[0] - exact) <= dt * dt, "first spike \(spikes[0]) vs \(exact)")
        for (a, b) in zip(spikes, spikes.dropFirst()) {
            #expect(abs(b - a - exact) <= dt * dt, "dt = \(dt): interval \(b - a) vs \(exact)")
        }
        // Between spikes V stays below threshold (the recorded pre-reset state at a spike, the
        // end of a step retaken to the located time, within dt² of it); after each reset it
        // restarts from Vreset.
        #expect(solution.component(0).allSatisfy { $0 < Self.defaults[4] + dt * dt })
    }

    /// The interval error is O(dt²) (fitted order 2 ± 0.3 over dt = 0.2 … 0.025; the located
    /// crossing's interpolation error varies with where in its step it falls, so single ratios
    /// scatter around 4).
    @Test func intervalErrorShrinksWithTheStep() throws {
        let exact = Self.analyticInterval
        var errors: [Double] = []
        for dt in [0.2, 0.1, 0.05, 0.025] {
            let spikes = try Self.events(LeakyIntegrateAndFire(), dt: dt, end: 100).events.map(\.time)
            let mean = (spikes.last! - spikes.first!) / Double(spikes.count - 1)
            errors.append(abs(mean - exact))
        }
        let order = LeapfrogOrderTests.fittedOrder(errors)
        #expect(abs(order - 2) <= 0.3, "order \(order), errors \(errors)")
        #expect(errors[3] < 1e-5)
    }

    /// With t_ref = 2 the interval is T + t_ref; V is held at Vreset while r > 0, r runs down at
    /// unit rate and event 1 fires where r reaches 0, exactly t_ref after the reset (both events
    /// located inside their steps).
    @Test(arguments: [0.1, 0.01])
    func refractoryPeriodAddsToTheInterval(dt: Double) throws {
        let tRef = 2.0
        let system = LeakyIntegrateAndFire(refractoryPeriod: tRef)
        let solution = try Self.events(system, dt: dt, end: 150)
        let exact = Self.analyticInterval + tRef
        let spikes = solution.events.filter { $0.index == 0 }.map(\.time)
        let releases = solution.events.filter { $0.index == 1 }.map(\.time)
        try #require(spikes.count >= 8)
        #expect(solution.events.map(\.index).enumerated().allSatisfy { $0.element == $0.offset % 2 }, "events alternate 0, 1")
        for (a, b) in zip(spikes, spikes.dropFirst()) {
            #expect(abs(b - a - exact) <= dt * dt, "dt = \(dt): interval \(b - a) vs \(exact)")
        }
        for (spike, release) in zip(spikes, releases) {
            #expect(abs(release - spike - tRef) < 1e-9, "hold \(release - spike) vs \(tRef)")
        }
        // During every hold V sits exactly at Vreset and r decreases by the length of each step.
        let v = solution.component(0), r = solution.component(1), t = solution.times
        for i in 1..<t.count where r[i] > 0 && r[i - 1] > 0 {
            #expect(v[i] == Self.defaults[5])
            #expect(abs(r[i - 1] - r[i] - (t[i] - t[i - 1])) < 1e-12)
        }
        #expect(r.allSatisfy { $0 == -1 || ($0 >= 0 && $0 <= tRef) }, "r is the time left or the marker −1")
    }

    /// Below threshold (RI < Vth − EL) there are no events and V(t) = EL + RI(1 − e^{−t/τ});
    /// the trapezoid is second order on it.
    @Test func subthresholdResponseIsSecondOrder() throws {
        var p = Self.defaults
        p[3] = 1  // RI = 10 < 15
        let exact = p[1] + p[2] * p[3] * (1 - exp(-30 / p[0]))
        let problem = try ODEProblem(system: LeakyIntegrateAndFire(), parameters: p, timeSpan: (0, 30))
        var errors: [Double] = []
        for dt in [0.4, 0.2, 0.1, 0.05] {
            let solution = try Leapfrog(stepSize: dt).solve(problem, output: .finalState)
            #expect(solution.events.isEmpty)
            errors.append(abs(solution.finalState[0] - exact))
        }
        let order = LeapfrogOrderTests.fittedOrder(errors)
        #expect(abs(order - 2) <= 0.2, "order \(order), errors \(errors)")
    }

    @Test func derivativesMatchCentralDifferences() throws {
        let plain = LeakyIntegrateAndFire()
        for v in [-65.0, -52.0, -40.0] {
            try Support.checkDerivatives(plain, state: [v], parameters: plain.defaultParameters, cotangent: [0.8], tolerance: 1e-7)
        }
        let refractory = LeakyIntegrateAndFire(refractoryPeriod: 2)
        // One state inside the hold and one outside (the marker r = −1): differences must not
        // straddle r = −½, where f switches.
        for y in [[-65, 1.0], [-55, -1.0]] {
            try Support.checkDerivatives(
                refractory, state: y, parameters: refractory.defaultParameters, cotangent: [0.8, -1.1], tolerance: 1e-7)
        }
    }

    @Test func invalidSettingsAreNamed() throws {
        var p = Self.defaults
        p[5] = -50  // reset at the threshold
        #expect {
            try ODEProblem(system: LeakyIntegrateAndFire(), parameters: p, timeSpan: (0, 1))
        } throws: { error in
            guard case let ODEError.invalidParameter(name, value, _) = error else { return false }
            return name == "Vreset" && value == -50
        }
        p = Self.defaults
        p[0] = 0
        #expect {
            try ODEProblem(system: LeakyIntegrateAndFire(), parameters: p, timeSpan: (0, 1))
        } throws: { error in
            guard case let ODEError.invalidParameter(name, value, _) = error else { return false }
            return name == "tau" && value == 0
        }
        for bad in [-1.0, .nan, .infinity] {
            #expect {
                try ODEProblem(system: LeakyIntegrateAndFire(refractoryPeriod: bad), timeSpan: (0, 1))
            } throws: { error in
                guard case let ODEError.invalidParameter(name, _, _) = error else { return false }
                return name == "refractoryPeriod"
            }
        }
    }
}
