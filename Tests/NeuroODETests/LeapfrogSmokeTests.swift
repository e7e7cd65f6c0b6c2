import Testing
@testable import NeuroODE

@Suite struct LeapfrogSmokeTests {
    @Test func hopfPresetIsTonicAt100AndSilentAt95() throws {
        for (current, spiking) in [(100.0, true), (95.0, false)] {
            let system = MorrisLecar(preset: .hopf, current: current)
            let problem = try ODEProblem(system: system, timeSpan: (0, 3000))
            let solution = try Leapfrog(stepSize: 0.1).solve(problem, output: .finalState, spikes: SpikeDetection(threshold: 0))
            // Discard the first second (transient from the turn-off initial state).
            let late = solution.spikeTimes[0].filter { $0 > 1000 }
            #expect(spiking ? late.count > 10 : late.isEmpty, "I = \(current): \(late.count) spikes")
        }
    }

    @Test func initialStateIsReportedExactly() throws {
        let problem = try ODEProblem(system: MorrisLecar(), timeSpan: (0, 1))
        let solution = try Leapfrog(stepSize: 0.1).solve(problem, output: .everyStep(1))
        #expect(Array(solution.state(at: 0)) == problem.initialState)
        #expect(solution.times.count == 11)
        #expect(solution.times.last == 1)
    }
}
