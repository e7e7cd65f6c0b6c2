import Testing
import NeuroODE
@testable import Gradients

/// A user model that fails inside its right-hand side (throws, or returns NaN or +∞ from t = 5 on)
/// must stop every integrator and every gradient method with a typed error that says when — and,
/// for a thrown error, which model — never a crash, a hang or a silent NaN.
@Suite struct ModelFaultTests {
    static let integrators: [any Integrator] = [
        DormandPrince(), DormandPrince.fixedStep(0.01), CVODE(method: .bdf), CVODE(method: .adams),
    ]

    func solve<M: Integrator>(_ integrator: M, _ fault: FaultyOscillator.Fault) throws {
        _ = try integrator.solve(ODEProblem(system: FaultyOscillator(fault: fault), timeSpan: (0, 10)), output: .finalState)
    }

    /// A time within the step that first reached t = 5 (a step ends at most 0.5 past it here).
    func isNearFault(_ t: Double) -> Bool { t >= 4 && t <= 5.5 }

    @Test(arguments: integrators.indices)
    func thrownErrorNamesModelAndTime(index: Int) throws {
        let integrator = Self.integrators[index]
        let error = try #require(throws: ODEError.self) { try solve(integrator, .throwing) }
        guard case let .rightHandSideFailed(model, time, reason) = error else {
            Issue.record("\(integrator.name): \(error)")
            return
        }
        #expect(model == "faulty-oscillator")
        #expect(time >= 5 && time <= 5.5, "\(integrator.name): t = \(time)")
        #expect(reason == "lookup table exhausted")
        #expect(error.description.contains("faulty-oscillator") && error.description.contains("t = "))
    }

    /// Non-finite values are not thrown by the model: adaptive integrators first reject and shrink,
    /// then report the model and the time; the fixed step stops at the step that produced them.
    @Test(arguments: integrators.indices, [FaultyOscillator.Fault.nan, .infinity])
    func nonFiniteDerivativeNamesTheTime(index: Int, fault: FaultyOscillator.Fault) throws {
        let integrator = Self.integrators[index]
        let error = try #require(throws: ODEError.self) { try solve(integrator, fault) }
        switch error {
        case let .nonFiniteState(time, _, model):
            #expect(isNearFault(time), "\(integrator.name): t = \(time)")
            #expect(model == "faulty-oscillator" && error.description.contains("faulty-oscillator"))
        default:
            Issue.record("\(integrator.name) with \(fault): \(error)")
        }
    }

    /// The leapfrog needs a conductance-based model: a plain ODESystem is refused, by name.
    @Test func leapfrogRefusesAPlainModelByName() throws {
        let error = try #require(throws: ODEError.self) {
            try Leapfrog().solve(ODEProblem(system: FaultyOscillator(fault: .throwing), timeSpan: (0, 10)))
        }
        guard case let .unsupported(reason) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(reason.contains("faulty-oscillator") && reason.contains("dopri5"))
    }

    func task(_ fault: FaultyOscillator.Fault) throws -> TrainingTask<FaultyOscillator, DormandPrince, TrajectoryMatchingLoss> {
        try TrainingTask(
            name: "faulty", system: FaultyOscillator(fault: fault), timeSpan: (0, 10), integrator: DormandPrince(),
            loss: TrajectoryMatchingLoss(times: [10], targets: [0, 0], dimension: 2, metric: .meanSquared), training: ["k"])
    }

    /// BPTT (through the finite-difference fallback: the model has no pullback) stops in its forward pass.
    @Test func bpttReportsTheFault() throws {
        let thrown = try #require(throws: ODEError.self) { try BackpropagationThroughTime().estimate(task(.throwing), at: [1], iteration: 0) }
        guard case let .rightHandSideFailed(model, time, _) = thrown else {
            Issue.record("\(thrown)")
            return
        }
        #expect(model == "faulty-oscillator" && time >= 5 && time <= 5.5)
        let nonFinite = try #require(throws: ODEError.self) { try BackpropagationThroughTime().estimate(task(.nan), at: [1], iteration: 0) }
        guard case let .nonFiniteState(time, _, model) = nonFinite else {
            Issue.record("\(nonFinite)")
            return
        }
        #expect(isNearFault(time) && model == "faulty-oscillator")
    }

    /// ES: every sample fails, so the generation fails, quoting the first sample's error.
    @Test(arguments: FaultyOscillator.Fault.allCases)
    func evolutionStrategyReportsTheFault(fault: FaultyOscillator.Fault) throws {
        let es = EvolutionStrategy(samples: 4, sigma: 0.01, threads: 1)
        let error = try #require(throws: TrainingError.self) { try es.estimate(task(fault), at: [1], iteration: 0) }
        guard case let .tooManyFailedSamples(failed, total, firstError) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(failed == 4 && total == 4)
        #expect(firstError.contains("t = "))
        if fault == .throwing { #expect(firstError.contains("faulty-oscillator") && firstError.contains("lookup table exhausted")) }
    }
}
