import Foundation
import Synchronization
import Testing
@testable import NeuroODE

/// y' = λy (λ = parameter 0), solution y0·exp(λ(t − t0)). No Jacobian: CVODE uses difference quotients.
struct ExponentialDecay: ODESystem {
    var name: String { "exponential" }
    var dimension: Int { 1 }
    var parameterNames: [String] { ["lambda"] }
    var defaultParameters: [Double] { [-1] }
    var defaultInitialState: [Double] { [1] }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        dydt[0] = p[0] * y[0]
    }
}

/// x'' = −ω²x as (x, v); with the analytic Jacobian, whose calls it counts.
struct HarmonicOscillator: JacobianProviding {
    final class Counter: Sendable { let calls = Atomic<Int>(0) }
    let counter = Counter()
    var name: String { "oscillator" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["omega"] }
    var defaultParameters: [Double] { [2] }
    var defaultInitialState: [Double] { [1, 0] }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        dydt[0] = y[1]
        dydt[1] = -p[0] * p[0] * y[0]
    }
    func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        counter.calls.add(1, ordering: .relaxed)
        jacobian[0] = 0; jacobian[1] = -p[0] * p[0]  // column 0
        jacobian[2] = 1; jacobian[3] = 0             // column 1
    }
}

/// y' = 1 from 0; when y reaches 1 it resets to 0: events at t = 1, 2, 3, ...
struct Sawtooth: EventSystem {
    var name: String { "sawtooth" }
    var dimension: Int { 1 }
    var parameterNames: [String] { [] }
    var defaultParameters: [Double] { [] }
    var defaultInitialState: [Double] { [0] }
    var eventCount: Int { 1 }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        dydt[0] = 1
    }
    func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        values[0] = y[0] - 1
    }
    func applyEvent(_ index: Int, at t: Double, state: UnsafeMutableBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>) {
        state[0] = 0
    }
}

/// A ball dropped from height h0 under gravity g, bouncing with restitution e: (h, v).
/// The event −h crosses zero upwards at each impact; v → −e·v.
struct BouncingBall: EventSystem {
    var name: String { "bouncing-ball" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["g", "e"] }
    var defaultParameters: [Double] { [9.81, 0.8] }
    var defaultInitialState: [Double] { [1, 0] }
    var eventCount: Int { 1 }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        dydt[0] = y[1]
        dydt[1] = -p[0]
    }
    func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        values[0] = -y[0]
    }
    func applyEvent(_ index: Int, at t: Double, state: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>) {
        state[0] = 0
        state[1] = -p[1] * state[1]
    }
}

@Suite struct CVODETests {
    @Test func namesFollowTheMethod() {
        #expect(CVODE().name == "cvode-bdf")
        #expect(CVODE(method: .adams).name == "cvode-adams")
    }

    @Test(arguments: [CVODE.Method.adams, .bdf])
    func exponentialDecayMatchesAnalyticAtOutputTimes(method: CVODE.Method) throws {
        let problem = try ODEProblem(system: ExponentialDecay(), timeSpan: (0, 5))
        let times = (0...20).map { 0.25 * Double($0) }
        for rtol in [1e-6, 1e-9] {
            let solution = try CVODE(method: method, relativeTolerance: rtol, absoluteTolerance: 1e-14)
                .solve(problem, output: .times(times))
            #expect(solution.times == times)
            #expect(solution.state(at: 0).first == 1)
            for (k, t) in times.enumerated() {
                let error = abs(solution.states[k] - exp(-t)) / exp(-t)
                #expect(error < 50 * rtol, "\(method) rtol \(rtol): t = \(t) relative error \(error)")
            }
            #expect(solution.finalTime == 5)
            #expect(solution.statistics.jacobianEvaluations > 0)
        }
    }

    @Test func adamsOnOscillatorConvergesWithToleranceAndUsesTheAnalyticJacobian() throws {
        let system = HarmonicOscillator()
        let problem = try ODEProblem(system: system, timeSpan: (0, 10))
        var errors: [Double] = []
        for rtol in [1e-6, 1e-8, 1e-10] {
            let before = system.counter.calls.load(ordering: .relaxed)
            let solution = try CVODE(method: .adams, relativeTolerance: rtol, absoluteTolerance: rtol * 1e-2)
                .solve(problem, output: .finalState)
            let x = solution.finalState[0], v = solution.finalState[1]
            errors.append(max(abs(x - cos(20)), abs(v + 2 * sin(20)) / 2))
            // The analytic Jacobian was found once and used: CVODE's count equals the model's.
            let calls = system.counter.calls.load(ordering: .relaxed) - before
            #expect(calls == solution.statistics.jacobianEvaluations && calls > 0)
            #expect(solution.times == [10])
        }
        #expect(errors[0] < 1e-4 && errors[2] < 1e-7, "errors \(errors)")
        #expect(errors[0] / errors[2] > 100, "errors \(errors)")
    }

    @Test func everyStepOutputRecordsEachInternalStep() throws {
        let problem = try ODEProblem(system: ExponentialDecay(), timeSpan: (0, 3))
        let solution = try CVODE().solve(problem, output: .everyStep(1))
        #expect(solution.times.count == solution.statistics.steps + 1)
        #expect(solution.times.first == 0 && solution.times.last == 3)
        #expect(zip(solution.times, solution.times.dropFirst()).allSatisfy { $0 < $1 })
        let strided = try CVODE().solve(problem, output: .everyStep(4))
        // The initial state, every 4th step, and the final state if the count is not a multiple of 4.
        var expected = solution.times.enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        if expected.last != 3 { expected.append(3) }
        #expect(strided.times == expected)
    }

    @Test func backwardIntegrationMatchesExponential() throws {
        let problem = try ODEProblem(system: ExponentialDecay(), initialState: [exp(-1)], timeSpan: (1, 0))
        let times = [0.75, 0.5, 0.25, 0]
        let solution = try CVODE(relativeTolerance: 1e-9, absoluteTolerance: 1e-14).solve(problem, output: .times(times))
        #expect(solution.times == times)
        for (k, t) in times.enumerated() {
            #expect(abs(solution.states[k] - exp(-t)) < 1e-7, "t = \(t): \(solution.states[k])")
        }
        #expect(solution.finalTime == 0)
        #expect(abs(solution.finalState[0] - 1) < 1e-7)
    }

    @Test func sawtoothEventsFireAtIntegerTimes() throws {
        let problem = try ODEProblem(system: Sawtooth(), timeSpan: (0, 3.25))
        let solution = try CVODE(relativeTolerance: 1e-8, absoluteTolerance: 1e-12)
            .solve(problem, output: .times([0.5, 1.5, 2.5, 3.25]), spikes: SpikeDetection(threshold: 0.5, variables: [0]))
        #expect(solution.events.map(\.index) == [0, 0, 0])
        for (event, expected) in zip(solution.events, [1.0, 2, 3]) {
            #expect(abs(event.time - expected) < 1e-9, "event at \(event.time), expected \(expected)")
        }
        #expect(solution.statistics.events == 3)
        #expect(solution.statistics.eventFunctionEvaluations > 0)
        for (k, t) in [0.5, 1.5, 2.5, 3.25].enumerated() {
            #expect(abs(solution.states[k] - (t - t.rounded(.down))) < 1e-9)
        }
        #expect(abs(solution.finalState[0] - 0.25) < 1e-9)
        // y is linear between steps, so the interpolated crossings of 0.5 are exact.
        let spikes = solution.spikeTimes[0]
        #expect(spikes.count == 3)
        for (spike, expected) in zip(spikes, [0.5, 1.5, 2.5]) {
            #expect(abs(spike - expected) < 1e-9)
        }
    }

    @Test func bouncingBallImpactTimesAreAnalytic() throws {
        let system = BouncingBall()
        let g = 9.81, e = 0.8, h0 = 1.0
        // First impact after sqrt(2h0/g); then flights of 2·v_k/g with v_k = e^k·sqrt(2g·h0).
        var impacts = [(2 * h0 / g).squareRoot()]
        var speed = (2 * g * h0).squareRoot()
        for _ in 0..<3 {
            speed *= e
            impacts.append(impacts.last! + 2 * speed / g)
        }
        let problem = try ODEProblem(system: system, timeSpan: (0, impacts.last! + 0.1))
        let solution = try CVODE(relativeTolerance: 1e-10, absoluteTolerance: 1e-12).solve(problem, output: .finalState)
        #expect(solution.events.count == 4)
        for (event, expected) in zip(solution.events, impacts) {
            #expect(abs(event.time - expected) < 1e-7, "impact at \(event.time), expected \(expected)")
        }
        // After the last impact: h = v·τ − gτ²/2 with v = e⁴·sqrt(2g·h0), τ = 0.1.
        let v = speed * e, tau = 0.1
        #expect(abs(solution.finalState[0] - (v * tau - g * tau * tau / 2)) < 1e-6)
        #expect(abs(solution.finalState[1] - (v - g * tau)) < 1e-6)
    }
}
