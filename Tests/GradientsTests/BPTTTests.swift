import Foundation
import Testing
import NeuroODE
@testable import Gradients

@Suite struct BPTTTests {
    /// Turn-off on a short, smooth horizon, training several Morris–Lecar parameters at once.
    func task(horizon: Double, training names: [String], preset: MorrisLecar.Preset = .hopf,
              scheme: Leapfrog.InstantaneousVoltage = .extrapolatedMidpoint) throws
        -> TrainingTask<MorrisLecar, Leapfrog, MeanActivityLoss>
    {
        try TrainingTask(
            name: "turn-off", system: MorrisLecar(preset: preset), timeSpan: (0, horizon),
            integrator: Leapfrog(stepSize: 0.1, instantaneousVoltage: scheme), loss: MeanActivityLoss(horizon: horizon), training: names)
    }

    @Test(arguments: [(60.0, Leapfrog.InstantaneousVoltage.extrapolatedMidpoint), (120, .extrapolatedMidpoint), (120, .stepStart)])
    func bpttMatchesCentralDifferencesOfTheSameDiscreteMap(horizon: Double, scheme: Leapfrog.InstantaneousVoltage) throws {
        let names = MorrisLecar.parameterNames
        let task = try task(horizon: horizon, training: names, scheme: scheme)
        let theta = try task.split(Array(task.systemParameters)).system
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(abs(bptt.loss - reference.loss) <= 1e-14 * max(1, abs(reference.loss)), "BPTT's forward pass equals the integrator's")
        for (k, name) in names.enumerated() {
            let scale = max(abs(reference.gradient[k]), 1e-3 * reference.gradient.map(abs).max()!)
            #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= 1e-6 * scale,
                    "\(name): bptt \(bptt.gradient[k]) fd \(reference.gradient[k])")
        }
    }

    @Test func checkpointedEqualsPlainToRounding() throws {
        let task = try task(horizon: 200, training: ["I", "phi", "gK"])
        let theta = [100.0, 0.04, 8]
        let plain = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        for checkpointing in [BackpropagationThroughTime.Checkpointing.interval(7), .interval(45), .memoryBudget(bytes: 4096)] {
            let checkpointed = try BackpropagationThroughTime(checkpointing: checkpointing).estimate(task, at: theta, iteration: 0)
            #expect(checkpointed.loss == plain.loss)
            for (a, b) in zip(checkpointed.gradient, plain.gradient) {
                #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(checkpointing)")
            }
            #expect(checkpointed.report.bytesStored < plain.report.bytesStored / 5)
        }
    }

    @Test func memoryBudgetChoosesTheFastestIntervalThatFits() {
        let method = BackpropagationThroughTime(checkpointing: .memoryBudget(bytes: 16 * 100))
        // 1000 steps of 16-byte states in 100 states: smallest k with ⌈1000/k⌉ + k ≤ 100 is 12.
        #expect(method.checkpointInterval(steps: 1000, stateBytes: 16) == 12)
        #expect(BackpropagationThroughTime(checkpointing: .memoryBudget(bytes: 1 << 30)).checkpointInterval(steps: 1000, stateBytes: 16) == 1)
    }

    @Test func unsupportedIntegratorIsATypedError() throws {
        struct Decay: ODESystem {
            var name: String { "decay" }
            var dimension: Int { 1 }
            var parameterNames: [String] { ["k"] }
            var defaultParameters: [Double] { [1] }
            var defaultInitialState: [Double] { [1] }
            func evaluateRightHandSide(at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>, into d: UnsafeMutableBufferPointer<Double>) {
                d[0] = -parameters[0] * state[0]
            }
        }
        let task = try TrainingTask(
            name: "decay", system: Decay(), timeSpan: (0, 1), integrator: Leapfrog(), loss: MeanActivityLoss(horizon: 1), training: ["k"])
        #expect(throws: TrainingError.self) { try BackpropagationThroughTime().estimate(task, at: [1], iteration: 0) }
    }
}

@Suite struct BPTTHodgkinHuxleyTests {
    @Test func bpttMatchesCentralDifferencesForEveryParameter() throws {
        let horizon = 25.0
        let task = try TrainingTask(
            name: "hh-activity", system: HodgkinHuxley(), timeSpan: (0, horizon), integrator: Leapfrog(stepSize: 0.05),
            loss: MeanActivityLoss(output: SynapticOutput(threshold: 0, slope: 5), horizon: horizon),
            training: HodgkinHuxley.parameterNames)
        let theta = task.systemParameters
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(bptt.loss > 1e-3, "a spike happens inside the window")
        for (k, name) in HodgkinHuxley.parameterNames.enumerated() {
            let scale = max(abs(reference.gradient[k]), 1e-3 * reference.gradient.map(abs).max()!)
            #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= 1e-6 * scale,
                    "\(name): bptt \(bptt.gradient[k]) fd \(reference.gradient[k])")
        }
    }
}
