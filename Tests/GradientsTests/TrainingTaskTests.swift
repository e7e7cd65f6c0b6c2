import Foundation
import Testing
import NeuroODE
@testable import Gradients

@Suite struct TrainingTaskTests {
    func turnOff(horizon: Double = 200) throws -> TrainingTask<MorrisLecar, Leapfrog, MeanActivityLoss> {
        try TrainingTask(
            name: "turn-off", system: MorrisLecar(preset: .hopf), timeSpan: (0, horizon),
            integrator: Leapfrog(stepSize: 0.1), loss: MeanActivityLoss(horizon: horizon), training: ["I"])
    }

    @Test func lossIsTheTrapezoidOfTheOutputOverTheStoredTrajectory() throws {
        let task = try turnOff()
        let loss = try task.loss(at: [100])
        // Independent path: store every step, then integrate T(V) by the trapezoid rule here.
        let solution = try Leapfrog(stepSize: 0.1).solve(task.problem(at: [100]), output: .everyStep(1))
        let v = solution.component(0), t = solution.times
        var integral = 0.0
        for i in 1..<t.count {
            integral += 0.5 * (t[i] - t[i - 1]) * (SynapticOutput.paper.value(v[i]) + SynapticOutput.paper.value(v[i - 1]))
        }
        #expect(abs(loss - integral / 200) < 1e-13)
        #expect(loss > 0.01, "the neuron fires at I = 100")
    }

    @Test func parameterSplitAndValidation() throws {
        let task = try turnOff()
        #expect(task.parameterNames == ["I"])
        let (full, lossParameters) = try task.split([90])
        #expect(full[12] == 90 && lossParameters.isEmpty)
        #expect(throws: ODEError.dimensionMismatch(what: "trainable parameters of task turn-off", expected: 1, actual: 2)) {
            try task.split([1, 2])
        }
        #expect(throws: ODEError.unknownParameter(name: "J", model: "morris-lecar")) {
            try TrainingTask(
                name: "x", system: MorrisLecar(), timeSpan: (0, 1), integrator: Leapfrog(), loss: MeanActivityLoss(horizon: 1),
                training: ["J"])
        }
        let error = #expect(throws: ODEError.self) { try task.loss(at: [.nan]) }
        guard case .nonFiniteParameter(name: "I", _)? = error else {
            Issue.record("expected nonFiniteParameter(I), got \(String(describing: error))")
            return
        }
    }
}
