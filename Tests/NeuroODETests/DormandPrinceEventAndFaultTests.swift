import Foundation
import Testing
@testable import NeuroODE

/// Events at analytic times, every fault of RELIABILITY.md with its typed error, and the work
/// counters of dopri5.
@Suite struct DormandPrinceEventAndFaultTests {
    typealias Systems = DormandPrinceTestSystems

    /// A ball dropped from height 1 (gravity 9.81), bouncing with restitution 0.8. Event 0 fires
    /// when the height goes from > 0 to ≤ 0 and reverses the velocity. The motion is quadratic in
    /// t, so bounce times are known in closed form: t₁ = √(2/g), then gaps 2eᵏ·t₁.
    struct BouncingBall: EventSystem {
        static let gravity = 9.81, restitution = 0.8
        var name: String { "bouncing-ball" }
        var dimension: Int { 2 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [1, 0] }
        var eventCount: Int { 1 }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = y[1]
            dydt[1] = -Self.gravity
        }
        func evaluateEventFunctions(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into values: UnsafeMutableBufferPointer<Double>
        ) { values[0] = -y[0] }
        func applyEvent(_ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>) {
            y[1] = -Self.restitution * y[1]
        }
        static func bounceTimes(_ count: Int) -> [Double] {
            let first = (2 / gravity).squareRoot()
            var times = [first]
            for k in 1..<count { times.append(times[k - 1] + 2 * pow(restitution, Double(k)) * first) }
            return times
        }
    }

    /// y' = 1 with two events: event 0 resets y to 0 when it reaches 1; event 1 (g = sin(πt/2)·…)
    /// is a smooth function of t alone that crosses upward at t = 4k, testing location on a
    /// non-polynomial g.
    struct Sawtooth: EventSystem {
        var name: String { "sawtooth" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [0] }
        var eventCount: Int { 2 }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) { dydt[0] = 1 }
        func evaluateEventFunctions(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into values: UnsafeMutableBufferPointer<Double>
        ) {
            values[0] = y[0] - 1
            values[1] = sin(Double.pi * (t - 0.5) / 2)  // up-crossings at t = 0.5 + 4k
        }
        func applyEvent(_ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>) {
            if index == 0 { y[0] = 0 }
        }
    }

    /// The oscillator x = sin t with an event when x crosses 0 upward (t = 2πk): the crossing is
    /// found on the dense output of a trigonometric solution.
    struct SineCrossing: EventSystem {
        var name: String { "sine-crossing" }
        var dimension: Int { 2 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [0, 1] }
        var eventCount: Int { 1 }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = y[1]
            dydt[1] = -y[0]
        }
        func evaluateEventFunctions(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into values: UnsafeMutableBufferPointer<Double>
        ) { values[0] = y[0] }
        func applyEvent(_ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>) {}
    }

    /// y' = 1 until `poison`, then NaN (or a thrown error): a right-hand side that fails mid-run.
    struct Poisoned: ODESystem {
        struct Failure: Error {}
        let poison: Double
        let throwsInstead: Bool
        var name: String { "poisoned" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [0] }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) throws {
            if t >= poison, throwsInstead { throw Failure() }
            dydt[0] = t < poison ? 1 : .nan
        }
    }

    /// An event function that turns NaN after t = 1.
    struct BrokenEvent: EventSystem {
        var name: String { "broken-event" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [0] }
        var eventCount: Int { 1 }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) { dydt[0] = 1 }
        func evaluateEventFunctions(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into values: UnsafeMutableBufferPointer<Double>
        ) { values[0] = y[0] > 1 ? .nan : -1 }
        func applyEvent(_ index: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>) {}
    }

    // MARK: Events

    @Test func bouncingBallHitsTheGroundAtAnalyticTimes() throws {
        let expected = BouncingBall.bounceTimes(5)
        let problem = try ODEProblem(system: BouncingBall(), timeSpan: (0, expected[4] + 0.1))
        for integrator in [DormandPrince(), DormandPrince.fixedStep(0.01)] {
            let solution = try integrator.solve(problem, output: .finalState)
            #expect(solution.events.map(\.index) == [0, 0, 0, 0, 0])
            #expect(solution.statistics.events == 5)
            for (event, time) in zip(solution.events, expected) {
                #expect(abs(event.time - time) <= 1e-11, "\(integrator.fixedStepSize.map { "fixed \($0)" } ?? "adaptive"): \(event.time) vs \(time)")
            }
            // After the last bounce: v = e⁵·g·t₁ upward at t₅, then free flight for 0.1.
            let v5 = pow(BouncingBall.restitution, 5) * BouncingBall.gravity * expected[0]
            let height = v5 * 0.1 - 0.5 * BouncingBall.gravity * 0.01
            #expect(abs(solution.finalState[0] - height) <= 1e-9, "final height \(solution.finalState[0]) vs \(height)")
        }
    }

    @Test func resetsAndSmoothEventsFireAtTheirTimes() throws {
        let problem = try ODEProblem(system: Sawtooth(), timeSpan: (0, 9.25))
        let solution = try DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10).solve(problem, output: .times([2.5, 9.25]))
        let expected: [(Int, Double)] = [(1, 0.5), (0, 1), (0, 2), (0, 3), (0, 4), (1, 4.5), (0, 5), (0, 6), (0, 7), (0, 8), (1, 8.5), (0, 9)]
        #expect(solution.events.map(\.index) == expected.map(\.0))
        for (event, (_, time)) in zip(solution.events, expected) {
            #expect(abs(event.time - time) <= 1e-11 * max(1, time), "event \(event.index) at \(event.time), expected \(time)")
        }
        #expect(abs(solution.states[0] - 0.5) <= 1e-10)
        #expect(abs(solution.finalState[0] - 0.25) <= 1e-10)
    }

    @Test func eventLocatedOnTrigonometricDenseOutput() throws {
        let problem = try ODEProblem(system: SineCrossing(), timeSpan: (0, 13))
        let solution = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12).solve(problem, output: .finalState)
        #expect(solution.events.map(\.index) == [0, 0])
        for (event, k) in zip(solution.events, [1.0, 2.0]) {
            #expect(abs(event.time - 2 * Double.pi * k) <= 1e-8, "\(event.time)")
        }
        #expect(abs(solution.finalState[0] - sin(13)) <= 1e-8)
    }

    // MARK: Faults

    @Test func nonFiniteRightHandSideMidRunIsAnErrorWithTheTime() throws {
        let problem = try ODEProblem(system: Poisoned(poison: 0.5, throwsInstead: false), timeSpan: (0, 1))
        let adaptive = #expect(throws: ODEError.self) { try DormandPrince().solve(problem) }
        guard case let .nonFiniteState(time, _, _) = adaptive else {
            Issue.record("expected nonFiniteState, got \(String(describing: adaptive))")
            return
        }
        #expect(abs(time - 0.5) <= 1e-6, "failed at t = \(time)")

        let fixed = #expect(throws: ODEError.self) { try DormandPrince.fixedStep(0.1).solve(problem) }
        // The step [0.4, 0.5] evaluates f at its end t = 0.5: step 5 fails.
        #expect(fixed == .nonFiniteState(time: 0.5, step: 5, model: "poisoned"))
    }

    @Test func nonFiniteSlopeAtTheStartIsAnError() throws {
        let problem = try ODEProblem(system: Poisoned(poison: 0, throwsInstead: false), timeSpan: (0, 1))
        #expect(throws: ODEError.nonFiniteState(time: 0, step: 0, model: "poisoned")) { try DormandPrince().solve(problem) }
    }

    @Test func thrownModelErrorIsWrappedWithModelAndTime() throws {
        let problem = try ODEProblem(system: Poisoned(poison: 0.5, throwsInstead: true), timeSpan: (0, 1))
        let error = #expect(throws: ODEError.self) { try DormandPrince.fixedStep(0.25).solve(problem) }
        guard case let .rightHandSideFailed(model, time, _) = error else {
            Issue.record("expected rightHandSideFailed, got \(String(describing: error))")
            return
        }
        #expect(model == "poisoned")
        #expect(time >= 0.5 && time <= 0.75)
    }

    @Test func finiteTimeBlowUpIsAnErrorNearTheSingularity() throws {
        let problem = try ODEProblem(system: Systems.Riccati(), timeSpan: (0, 2))
        let error = #expect(throws: ODEError.self) { try DormandPrince().solve(problem) }
        switch error {
        case let .stepSizeTooSmall(time, stepSize)?:
            #expect(abs(time - 1) <= 1e-3, "stopped at t = \(time)")
            #expect(abs(stepSize) < 1e-10)
        case let .nonFiniteState(time, _, _)?:
            #expect(abs(time - 1) <= 1e-3, "stopped at t = \(time)")
        default:
            Issue.record("expected a step-size or non-finite error, got \(String(describing: error))")
        }
    }

    @Test func stepBudgetExhaustionReportsTheTimeReached() throws {
        let problem = try ODEProblem(system: Systems.Oscillator(omega: 10), timeSpan: (0, 100))
        let error = #expect(throws: ODEError.self) { try DormandPrince(maxSteps: 50).solve(problem) }
        guard case let .stepBudgetExhausted(time, maxSteps) = error else {
            Issue.record("expected stepBudgetExhausted, got \(String(describing: error))")
            return
        }
        #expect(maxSteps == 50)
        #expect(time > 0 && time < 100)
    }

    @Test func invalidOptionsAreRejectedNamingTheValue() throws {
        let problem = try ODEProblem(system: Systems.Exponential(rate: -1), timeSpan: (0, 1))
        for rtol in [-1e-6, 0, 1e-16, .nan, .infinity, 1] {
            let error = #expect(throws: ODEError.self) { try DormandPrince(relativeTolerance: rtol).solve(problem) }
            guard case let .invalidTolerance(_, value) = error else {
                Issue.record("rtol \(rtol): \(String(describing: error))")
                continue
            }
            #expect(value == rtol || (value.isNaN && rtol.isNaN))
        }
        for atol in [-1e-9, 0, .infinity] {
            let error = #expect(throws: ODEError.self) { try DormandPrince(absoluteTolerance: atol).solve(problem) }
            guard case let .invalidTolerance(_, value) = error else {
                Issue.record("atol \(atol): \(String(describing: error))")
                continue
            }
            #expect(value == atol)
        }
        #expect(throws: ODEError.invalidTolerance(name: "maximum number of steps (needs ≥ 1)", value: 0)) {
            try DormandPrince(maxSteps: 0).solve(problem)
        }
        for h in [0, -0.1, .nan, 1.5] {
            let error = #expect(throws: ODEError.self) { try DormandPrince.fixedStep(h).solve(problem) }
            guard case let .invalidStepSize(value) = error else {
                Issue.record("fixed step \(h): \(String(describing: error))")
                continue
            }
            #expect(value == h || (value.isNaN && h.isNaN))
        }
        #expect(throws: ODEError.invalidStepSize(-1)) { try DormandPrince(initialStepSize: -1).solve(problem) }
        #expect(throws: ODEError.invalidStepSize(0)) { try DormandPrince(maxStepSize: 0).solve(problem) }
    }

    @Test func nonFiniteEventFunctionIsAnError() throws {
        let problem = try ODEProblem(system: BrokenEvent(), timeSpan: (0, 2))
        let error = #expect(throws: ODEError.self) { try DormandPrince().solve(problem) }
        guard case let .nonFiniteEventFunction(time) = error else {
            Issue.record("expected nonFiniteEventFunction, got \(String(describing: error))")
            return
        }
        #expect(time > 1 && time <= 2)
    }

    // MARK: Statistics and options

    @Test func fixedStepCountsStepsAndEvaluations() throws {
        let problem = try ODEProblem(system: Systems.Exponential(rate: -1), timeSpan: (0, 1.05))
        let solution = try DormandPrince.fixedStep(0.1).solve(problem, output: .everyStep(1))
        // Ten full steps and one of 0.05 landing exactly on the end.
        #expect(solution.statistics.steps == 11)
        #expect(solution.statistics.rejectedSteps == 0)
        #expect(solution.statistics.rightHandSideEvaluations == 1 + 6 * 11)
        #expect(solution.times.count == 12)
        #expect(solution.times.last == 1.05)
        #expect(abs(solution.times[10] - 1.0) <= 1e-15)
    }

    @Test func adaptiveCountsRejectionsAndEvaluations() throws {
        let problem = try ODEProblem(system: Systems.Oscillator(omega: 5), timeSpan: (0, 10))
        // A first step far too long forces rejections.
        let solution = try DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-8, initialStepSize: 5)
            .solve(problem, output: .everyStep(1))
        let s = solution.statistics
        #expect(s.rejectedSteps > 0)
        #expect(s.steps == solution.times.count - 1)
        // FSAL: one evaluation to start, then six per attempted step.
        #expect(s.rightHandSideEvaluations == 1 + 6 * (s.steps + s.rejectedSteps))
        // The automatic first step costs one extra evaluation.
        let automatic = try DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-8).solve(problem, output: .finalState).statistics
        #expect(automatic.rightHandSideEvaluations == 2 + 6 * (automatic.steps + automatic.rejectedSteps))
        #expect(solution.finalTime == 10)
    }

    @Test func maxStepSizeBoundsEveryStep() throws {
        let problem = try ODEProblem(system: Systems.Exponential(rate: -0.1), timeSpan: (0, 10))
        let solution = try DormandPrince(maxStepSize: 0.25).solve(problem, output: .everyStep(1))
        let gaps = zip(solution.times, solution.times.dropFirst()).map { $1 - $0 }
        #expect(gaps.allSatisfy { $0 <= 0.25 * (1 + 1e-12) })
        #expect(solution.statistics.steps >= 40)
    }

    @Test func spikesAndEveryStepOutputFollowTheRecorderProtocol() throws {
        // x = cos 2t crosses 0.5 upward once per period π after its first minimum.
        let problem = try ODEProblem(system: Systems.Oscillator(omega: 2), timeSpan: (0, 10))
        let solution = try DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-9)
            .solve(problem, output: .everyStep(2), spikes: SpikeDetection(threshold: 0.5, variables: [0]))
        // cos 2t = 0.5 going up at 2t = 2π − π/3 + 2πk.
        let expected = (0..<3).map { (5 * Double.pi / 3 + 2 * Double.pi * Double($0)) / 2 }
        #expect(solution.spikeTimes[0].count == expected.count)
        // Linear interpolation inside a step: accurate to the square of the step length.
        for (t, e) in zip(solution.spikeTimes[0], expected) { #expect(abs(t - e) <= 1e-2, "\(t) vs \(e)") }
        #expect(solution.times.first == 0)
        #expect(solution.times.last == 10)
    }
}
