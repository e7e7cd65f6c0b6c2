import Foundation
import Testing
@testable import NeuroODE

/// Fixed-step runs beyond the leapfrog's stability stop with a typed error naming the state, the
/// time and the step (README "Leapfrog stability limits"); span/step ratios that do not fit an
/// Int are typed errors, not traps; the default thread count honours NEUROODE_THREADS, the
/// affinity mask and a cgroup quota.
@Suite("plausibility and step counts")
struct PlausibilityAndStepCountTests {
    @Test func hodgkinHuxleyAtFiveMillisecondsIsRefused() throws {
        let problem = try ODEProblem(system: HodgkinHuxley(), timeSpan: (0, 100))
        #expect {
            try Leapfrog(stepSize: 5).solve(problem)
        } throws: { error in
            guard case let .implausibleState(model, state, value, range, time, step, stepSize) = error as? ODEError else { return false }
            return model == "hodgkin-huxley" && ["V", "m", "h", "n"].contains(state) && !range.contains(value)
                && time == Double(step) * 5 && stepSize == 5
        }
    }

    /// The limits README documents: the largest plausible step of each model and preset passes,
    /// the next one tried is refused (the message tells the user to take a smaller step).
    @Test(arguments: [
        ("hodgkin-huxley", nil as MorrisLecar.Preset?, 0.2, 0.25),
        ("morris-lecar", .hopf, 20.0, 50.0),
        ("morris-lecar", .snic, 5.0, 10.0),
        ("morris-lecar", .explosive, 20.0, 50.0),
        ("morris-lecar", .snicExplosive, 5.0, 10.0),
    ])
    func stabilityLimitsAreWhereReadmeSaysTheyAre(model: String, preset: MorrisLecar.Preset?, passes: Double, fails: Double) throws {
        func solve(_ dt: Double) throws(ODEError) {
            if let preset {
                _ = try Leapfrog(stepSize: dt).solve(try ODEProblem(system: MorrisLecar(preset: preset), timeSpan: (0, 2000)))
            } else {
                var problem = try ODEProblem(system: HodgkinHuxley(), timeSpan: (0, 1000))
                try problem.setParameter("I", to: 20)
                _ = try Leapfrog(stepSize: dt).solve(problem)
            }
        }
        try solve(passes)
        #expect {
            try solve(fails)
        } throws: { error in
            guard case .implausibleState = error as? ODEError else { return false }
            return "\(error)".contains("use a smaller step")
        }
    }

    /// A model that declares no ranges is never checked (LIF's membrane has no band).
    @Test func modelsWithoutRangesAreNotChecked() throws {
        #expect(LeakyIntegrateAndFire().plausibleGateRange == nil && LeakyIntegrateAndFire().plausibleVoltageRange == nil)
        #expect(MorrisLecar().plausibleGateRange == 0...1)
    }

    @Test(arguments: [(1e300, 0.1), (100.0, 1e-300), (Double.greatestFiniteMagnitude, 1.0), (1.0, Double.leastNonzeroMagnitude)])
    func hugeRatiosAreTypedErrors(span: Double, stepSize: Double) {
        #expect(throws: ODEError.tooManySteps(span: span, stepSize: stepSize, maximum: FixedStepCount.maximum)) {
            try FixedStepCount.covering(span: span, stepSize: stepSize)
        }
    }

    @Test func stepCountsRoundUpAndToleratesRounding() throws {
        #expect(try FixedStepCount.covering(span: 1, stepSize: 0.1) == 10)
        #expect(try FixedStepCount.covering(span: 1.05, stepSize: 0.1) == 11)
        #expect(try FixedStepCount.covering(span: 1e-3, stepSize: 0.1) == 1)
        #expect(try FixedStepCount.covering(span: Double(FixedStepCount.maximum), stepSize: 1) == FixedStepCount.maximum)
        #expect {
            try FixedStepCount.covering(span: 1, stepSize: .nan)
        } throws: { error in
            guard case let .invalidStepSize(dt) = error as? ODEError else { return false }
            return dt.isNaN
        }
    }

    @Test func leapfrogAndFixedDopriRefuseHugeSpans() throws {
        let problem = try ODEProblem(system: MorrisLecar(), timeSpan: (0, 1e300))
        #expect(throws: ODEError.tooManySteps(span: 1e300, stepSize: 0.1, maximum: FixedStepCount.maximum)) {
            try Leapfrog(stepSize: 0.1).solve(problem, output: .finalState)
        }
        #expect(throws: ODEError.tooManySteps(span: 1e300, stepSize: 0.1, maximum: FixedStepCount.maximum)) {
            try DormandPrince.fixedStep(0.1).solve(problem, output: .finalState)
        }
    }

    /// An adaptive solve over an absurd span runs out of its step budget; it is not reported as
    /// a step too small at t = 0.
    @Test func adaptiveHugeSpanExhaustsTheBudget() throws {
        let problem = try ODEProblem(system: MorrisLecar(), timeSpan: (0, 1e300))
        #expect {
            try DormandPrince(maxSteps: 200).solve(problem, output: .finalState)
        } throws: { error in
            guard case let .stepBudgetExhausted(time, maxSteps) = error as? ODEError else { return false }
            return maxSteps == 200 && time > 0
        }
    }

    @Test func cgroupQuotaParsing() {
        #expect(Parallelism.quota(fromCPUMax: "50000 100000\n") == 1)
        #expect(Parallelism.quota(fromCPUMax: "150000 100000") == 2)
        #expect(Parallelism.quota(fromCPUMax: "200000 100000") == 2)
        #expect(Parallelism.quota(fromCPUMax: "max 100000") == nil)
        #expect(Parallelism.quota(fromCPUMax: "") == nil)
    }

    @Test func threadCountParsing() {
        #expect(Parallelism.threadCount(parsing: "3") == 3)
        #expect(Parallelism.threadCount(parsing: " 1 ") == 1)
        for bad in ["0", "-1", "abc", "", "1.5", "5000"] { #expect(Parallelism.threadCount(parsing: bad) == nil, "\(bad)") }
    }

    /// The affinity mask is read (Linux): never more CPUs than the machine has, at least one.
    @Test func affinityIsReadAndBounded() throws {
        #if os(Linux)
        let count = try #require(Parallelism.affinityCount)
        #expect(count >= 1 && count <= ProcessInfo.processInfo.processorCount)
        #expect(Parallelism.availableProcessors <= count)
        #endif
    }
}
