import Foundation
import Testing
import NeuroODE
@testable import Gradients

@Suite struct CMAESTrainerTests {
    /// The Oja task at toy size: N = 2, 150 samples, η = 0.1 (a few hundred microseconds per inner run).
    func problem(eta: Double = 0.1) throws -> OjaTraining {
        var configuration = OjaTraining.Configuration.small
        configuration.inputs = 2
        configuration.sampleCount = 150
        configuration.eta = eta
        return try OjaTraining(configuration: configuration)
    }

    @Test func cmaesTrainsAProblemAndIsBitIdenticalForAnyThreadCount() throws {
        let problem = try problem()
        let configuration = TrainerConfiguration(iterations: 40, seed: 3, evaluationInterval: 5)
        let one = try CMAESTrainer(problem: problem, cmaes: CMAES(initialStepSize: 0.2, seed: 3, threads: 1), configuration: configuration).run()
        let two = try CMAESTrainer(problem: problem, cmaes: CMAES(initialStepSize: 0.2, seed: 3, threads: 2), configuration: configuration).run()
        #expect(one.state == two.state)
        #expect(one.log.map(\.deterministicPart) == two.log.map(\.deterministicPart))
        #expect(one.log.count == 40)
        // One generation per iteration, λ + 0 samples counted (the mean's evaluation is extra).
        #expect(one.state.evaluations == 40 * one.state.strategy.populationSize)
        // The meta-loss falls well below its start, averaged over the last iterations' fresh data.
        #expect(one.log.contains { $0.loss.isNaN && $0.event?.contains("the loss at the mean failed") == true })
        let first = one.log[0].loss
        // (A generation's mean may fail on that iteration's fresh data: logged as NaN.)
        let recent = one.log.suffix(10).map(\.loss).filter(\.isFinite)
        #expect(recent.count >= 5)
        let last = recent.reduce(0, +) / Double(recent.count)
        #expect(last < 0.5 * first, "meta-loss \(first) → \(last)")
        #expect(one.log.compactMap(\.testMetric).count == 9)  // every 5th and the last
        #expect(one.log.allSatisfy { $0.learningRate > 0 && $0.gradientNorm.isNaN })
    }

    @Test func rejectedGenerationsHalveTheStepSizeThenStop() throws {
        // η = 10⁶: every sampled rule (coefficients of size σ ≥ 0.006) overflows its inner run.
        let problem = try problem(eta: 1e6)
        let configuration = TrainerConfiguration(iterations: 50, seed: 0, failuresBeforeRollback: 2, maximumRollbacks: 1)
        var skipped = 0
        #expect(throws: TrainerError.self) {
            _ = try CMAESTrainer(problem: problem, cmaes: CMAES(initialStepSize: 0.1, seed: 0, threads: 2), configuration: configuration)
                .run { event in if case .skipped = event { skipped += 1 } }
        }
        #expect(skipped == 4)  // failuresBeforeRollback × (maximumRollbacks + 1)
        var state = try CMAES(initialStepSize: 0.1).start(at: [0, 0])
        CMAES(initialStepSize: 0.1).reject(&state)
        #expect(state.stepSize == 0.05 && state.generation == 1)
    }

    /// A run stopped after 4 generations and resumed from its checkpoint ends exactly where an
    /// uninterrupted 9-generation run ends (same state, same log); another σ₀ refuses the checkpoint.
    @Test func checkpointedRunResumesBitIdentically() throws {
        let problem = try problem()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cmaes-resume-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cmaes = CMAES(initialStepSize: 0.2, seed: 4, threads: 2)
        let full = try CMAESTrainer(problem: problem, cmaes: cmaes, configuration: TrainerConfiguration(iterations: 9, seed: 4)).run()
        var configuration = TrainerConfiguration(iterations: 9, seed: 4)
        configuration.checkpointInterval = 3
        let stops = StopAfterGenerations(count: 4)
        var first = CMAESTrainer(problem: problem, cmaes: cmaes, configuration: configuration, checkpoints: CheckpointStore(directory: directory))
        first.shouldStop = { stops.tick() }
        let partial = try first.run()
        #expect(partial.log.count == 4)
        #expect(CheckpointStore(directory: directory).listing().first?.iteration == 4)
        var resumed = [TrainingEvent]()
        let rest = try CMAESTrainer(problem: problem, cmaes: cmaes, configuration: configuration, checkpoints: CheckpointStore(directory: directory))
            .run(resume: true) { resumed.append($0) }
        #expect(rest.state == full.state)
        #expect(rest.log.map(\.deterministicPart) == full.log.map(\.deterministicPart))
        #expect(resumed.contains { if case .resumed(_, 4) = $0 { return true } else { return false } })
        let other = CMAESTrainer(
            problem: problem, cmaes: CMAES(initialStepSize: 0.3, seed: 4), configuration: configuration, checkpoints: CheckpointStore(directory: directory))
        #expect(throws: TrainerError.self) { _ = try other.run(resume: true) }
    }
}

/// A stop signal that fires after `count` generations.
private final class StopAfterGenerations: @unchecked Sendable {
    private var remaining: Int
    init(count: Int) { remaining = count }
    func tick() -> Bool {
        remaining -= 1
        return remaining <= 0
    }
}
