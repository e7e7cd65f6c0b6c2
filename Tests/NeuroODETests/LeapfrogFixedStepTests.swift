import Foundation
import Testing
@testable import NeuroODE

/// The leapfrog's fixed-step contract (RELIABILITY.md "Bad inputs and faults"): typed errors for bad
/// step sizes, spans and systems and for a state that turns non-finite; output exactly at the
/// requested times; a span that is not a multiple of the step ending exactly at its end.
@Suite struct LeapfrogFixedStepTests {
    typealias Support = LeapfrogModelsTestSupport

    /// The drive 1/√(1 − t) is NaN past t = 1. With dt = 0.25 the step midpoints are 0.125, 0.375,
    /// 0.625, 0.875, 1.125: the fifth step (from t = 1 to 1.25) is the first to use a NaN drive.
    @Test func nonFiniteStateStopsWithTimeAndStep() throws {
        let problem = try ODEProblem(system: Support.BlowUp(), timeSpan: (0, 2))
        #expect(throws: ODEError.nonFiniteState(time: 1.25, step: 5, model: "blow-up")) {
            try Leapfrog(stepSize: 0.25).solve(problem)
        }
        // Every output kind fails the same way: never a partial trajectory reported as success.
        for output in [OutputSchedule.finalState, .times([0.5, 1.5])] {
            #expect(throws: ODEError.nonFiniteState(time: 1.25, step: 5, model: "blow-up")) {
                try Leapfrog(stepSize: 0.25).solve(problem, output: output)
            }
        }
        // Stopping before the singularity is fine.
        let early = try ODEProblem(system: Support.BlowUp(), timeSpan: (0, 0.75))
        let solution = try Leapfrog(stepSize: 0.25).solve(early, output: .finalState)
        #expect(solution.finalState[0].isFinite)
    }

    @Test(arguments: [0.0, -0.1, Double.nan, Double.infinity, -Double.infinity, 1.5])
    func invalidStepSizeIsRejected(dt: Double) throws {
        let problem = try ODEProblem(system: MorrisLecar(), timeSpan: (0, 1))
        #expect {
            try Leapfrog(stepSize: dt).solve(problem)
        } throws: { error in
            guard case let ODEError.invalidStepSize(reported) = error else { return false }
            return reported.isNaN ? dt.isNaN : reported == dt
        }
    }

    @Test func stepEqualToTheSpanIsAccepted() throws {
        let problem = try ODEProblem(system: MorrisLecar(), timeSpan: (0, 1))
        let solution = try Leapfrog(stepSize: 1).solve(problem)
        #expect(solution.statistics.steps == 1)
        #expect(solution.times == [0, 1])
    }

    @Test func backwardSpanIsRejected() throws {
        let problem = try ODEProblem(system: MorrisLecar(), timeSpan: (10, 0))
        #expect {
            try Leapfrog(stepSize: 0.1).solve(problem)
        } throws: { error in
            guard case let ODEError.invalidTimeSpan(start, end, _) = error else { return false }
            return start == 10 && end == 0
        }
    }

    @Test func emptySpanReturnsTheInitialStateExactly() throws {
        let problem = try ODEProblem(system: HodgkinHuxley(), timeSpan: (5, 5))
        let solution = try Leapfrog(stepSize: 0.1).solve(problem)
        #expect(solution.finalState == problem.initialState)
        #expect(solution.statistics.steps == 0)
    }

    @Test func systemWithoutConductancesIsUnsupported() throws {
        let problem = try ODEProblem(system: Support.PlainDecay(), timeSpan: (0, 1))
        #expect {
            try Leapfrog(stepSize: 0.1).solve(problem)
        } throws: { error in
            guard case let ODEError.unsupported(message) = error else { return false }
            return message.contains("plain-decay")
        }
    }

    /// Requested times are reported exactly, with states linearly interpolated between the two
    /// steps around each time, and (being second order) close to the analytic solution.
    @Test func requestedOutputTimesAreInterpolatedExactlyThere() throws {
        let system = Support.ManufacturedMembrane()
        let problem = try ODEProblem(system: system, timeSpan: (0, 2))
        let dt = 0.125
        let requested = [0, 0.05, 0.125, 0.3, 1.0 / 3.0, 1.99, 2]
        let sampled = try Leapfrog(stepSize: dt).solve(problem, output: .times(requested))
        let steps = try Leapfrog(stepSize: dt).solve(problem, output: .everyStep(1))
        #expect(sampled.times == requested)
        #expect(steps.times.count == 17)
        for (i, t) in requested.enumerated() {
            let k = min(Int(t / dt), steps.times.count - 2)
            let ta = steps.times[k], tb = steps.times[k + 1]
            #expect(ta <= t && t <= tb)
            let f = (t - ta) / (tb - ta)
            let state = Array(sampled.state(at: i)), exact = Support.ManufacturedMembrane.exact(t)
            for j in 0..<2 {
                let a = steps.states[k * 2 + j], b = steps.states[(k + 1) * 2 + j]
                #expect(abs(state[j] - (a + f * (b - a))) <= 1e-14, "t = \(t), component \(j)")
                // Linear interpolation and the scheme are both O(dt²) ≈ 0.016 × the curvature.
                #expect(abs(state[j] - exact[j]) <= 0.02, "t = \(t), component \(j) vs exact")
            }
        }
    }

    /// Span 1.05 with dt = 0.1: ten full steps and one of 0.05, ending exactly at 1.05, and still
    /// second order (the halved-step error ratio is about 4).
    @Test func spanThatIsNotAMultipleOfTheStepEndsExactly() throws {
        let system = Support.ManufacturedMembrane()
        let end = 1.05
        let problem = try ODEProblem(system: system, timeSpan: (0, end))
        let solution = try Leapfrog(stepSize: 0.1).solve(problem, output: .everyStep(1))
        #expect(solution.finalTime == end)
        #expect(solution.times.last == end)
        #expect(solution.statistics.steps == 11)
        #expect(abs(solution.times[10] - 1.0) < 1e-12)

        let exact = Support.ManufacturedMembrane.exact(end)
        var errors: [Double] = []
        for dt in [0.16, 0.08, 0.04, 0.02] {  // 1.05/dt = 6.5625, 13.125, 26.25, 52.5: never whole
            let s = try Leapfrog(stepSize: dt).solve(problem, output: .finalState)
            #expect(s.finalTime == end)
            errors.append(max(abs(s.finalState[0] - exact[0]), abs(s.finalState[1] - exact[1])))
        }
        let order = LeapfrogOrderTests.fittedOrder(errors)
        #expect(abs(order - 2) <= 0.2, "order \(order) with a short last step, errors \(errors)")
    }
}
