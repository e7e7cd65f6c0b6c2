import Foundation
import Testing
@testable import Gradients
import NeuroODE

/// A stand-in gradient method with a known answer: L(θ) = ½(θ₀ − 90)², ∇L = θ₀ − 90, whatever the
/// task; at the iterations listed it returns a NaN loss or a NaN gradient instead.
private struct QuadraticMethod: GradientMethod {
    var nanLoss: Set<Int> = []
    var nanGradient: Set<Int> = []
    var name: String { "quadratic" }

    func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        let residual = theta[0] - 90
        return GradientEstimate(
            loss: nanLoss.contains(iteration) ? .nan : 0.5 * residual * residual,
            gradient: [nanGradient.contains(iteration) ? .nan : residual], report: GradientReport())
    }
}

@Suite("trainer")
struct TrainerTests {
    /// Turn-off over 100 ms: cheap enough for a debug build, and the real task type.
    static let problem = try! TurnOffTraining(configuration: .init(horizon: 100, stepSize: 0.1, iterations: 10, learningRate: 0.1, samples: 4, sigma: 1))

    static func scratch() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("neuroode-trainer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Gradient descent on ½(θ − 90)² from 100 with step 0.1: θ_k = 90 + 10·0.9^k exactly in
    /// exact arithmetic, so the log and θ follow the closed form.
    @Test func followsGradientDescentOnAQuadratic() throws {
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(), optimizer: GradientDescent(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 20))
        let state = try trainer.run()
        #expect(state.log.count == 20)
        for (k, record) in state.log.enumerated() {
            let residual = 10 * pow(0.9, Double(k))
            #expect(record.iteration == k)
            #expect(abs(record.loss - 0.5 * residual * residual) <= 1e-12 * 50)
            #expect(abs(record.gradientNorm - residual) <= 1e-12 * 10)
            #expect(record.event == nil)
        }
        #expect(abs(state.parameters[0] - (90 + 10 * pow(0.9, 20))) <= 1e-12 * 100)
    }

    /// On the real task with BPTT and Adam the trainer does exactly what a hand-written loop over
    /// the same gradients and the same optimizer does, bit for bit.
    @Test func matchesAHandWrittenLoopOnTheRealTask() throws {
        let method = BackpropagationThroughTime()
        let trainer = Trainer(
            problem: Self.problem, method: method, optimizer: Adam(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 3, maxGradientNorm: 10))
        let state = try trainer.run()
        var theta = [100.0]
        var adam = Adam(learningRate: 0.1)
        for k in 0..<3 {
            let estimate = try method.estimate(Self.problem.task(iteration: k, seed: 0), at: theta, iteration: k)
            #expect(state.log[k].loss.bitPattern == estimate.loss.bitPattern)
            adam.update(&theta, gradient: estimate.gradient)
        }
        #expect(state.parameters == theta)
        #expect(state.log[0].bytesStored > 0)
    }

    /// An update with a NaN gradient leaves θ and Adam's moments alone: the trainer matches a
    /// hand loop that simply leaves that iteration out.
    @Test func skippedUpdateDoesNotAdvanceTheOptimizer() throws {
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(nanGradient: [2]), optimizer: Adam(learningRate: 0.5),
            configuration: TrainerConfiguration(iterations: 6))
        var events: [String] = []
        let state = try trainer.run { if case let .skipped(iteration, _) = $0 { events.append("skip \(iteration)") } }
        var theta = [100.0]
        var adam = Adam(learningRate: 0.5)
        for k in 0..<6 where k != 2 { adam.update(&theta, gradient: [theta[0] - 90]) }
        #expect(state.parameters == theta)
        #expect(events == ["skip 2"])
        #expect(state.log[2].event?.contains("skipped") == true)
        #expect(state.log.map(\.outcome) == [.updated, .updated, .skipped, .updated, .updated, .updated])
        #expect(state.optimizer.skippedSteps == 1)
    }

    /// Three failures in a row roll back to the last checkpoint and halve the learning rate; from
    /// there gradient descent continues at the lower rate, so θ follows the closed form again.
    @Test func repeatedFailuresRollBackAndHalveTheStep() throws {
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(nanLoss: [5, 6, 7]), optimizer: GradientDescent(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 12, checkpointInterval: 4, failuresBeforeRollback: 3))
        var rollbacks: [(Int, Int, Double)] = []
        let state = try trainer.run { if case let .rolledBack(i, restored, rate) = $0 { rollbacks.append((i, restored, rate)) } }
        #expect(rollbacks.count == 1)
        #expect(rollbacks.first?.0 == 7 && rollbacks.first?.1 == 4 && rollbacks.first?.2 == 0.05)
        #expect(state.log[7].event?.contains("rolled back to iteration 4") == true)
        #expect(state.log.map(\.outcome)[4..<9] == [.updated, .skipped, .skipped, .rolledBack, .updated])
        #expect(state.log.filter(\.skippedUpdate).count == 3)
        #expect(state.log[8].learningRate == 0.05)
        let expected: Double = 90 + 10 * pow(0.9, 4.0) * pow(0.95, 4.0)
        #expect(abs(state.parameters[0] - expected) <= 1e-12 * 100, "\(state.parameters[0]) vs \(expected)")
    }

    /// Logs in checkpoints written before records carried their outcome decode with the outcome
    /// those versions' event text described; a current record round-trips it.
    @Test func recordOutcomeRoundTripsAndOlderLogsDecode() throws {
        let current = TrainingRecord(
            iteration: 3, wallTime: 1, loss: 2, testMetric: nil, gradientNorm: 3, learningRate: 0.1,
            bytesStored: 0, peakBytes: nil, outcome: .rolledBack, event: "rolled back")
        #expect(try JSONDecoder().decode(TrainingRecord.self, from: JSONEncoder().encode(current)) == current)
        func older(_ event: String?) throws -> TrainingRecord.Outcome {
            let event = event.map { "\"event\": \"\($0)\"," } ?? ""
            let text = "{\(event) \"iteration\": 0, \"wallTime\": 0, \"loss\": 1, \"gradientNorm\": 1, \"learningRate\": 0.1, \"bytesStored\": 0}"
            return try JSONDecoder().decode(TrainingRecord.self, from: Data(text.utf8)).outcome
        }
        #expect(try older(nil) == .updated)
        #expect(try older("test evaluation failed: x") == .updated)
        #expect(try older("skipped: the loss is not finite (nan)") == .skipped)
        #expect(try older("skipped: x; rolled back to iteration 4, learning rate 0.05") == .rolledBack)
        #expect(try older("target reached: θ kept") == .keptAtTarget)
    }

    @Test func failuresPastTheBudgetStopWithATypedError() throws {
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(nanLoss: Set(2..<100)), optimizer: GradientDescent(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 50, checkpointInterval: 2, failuresBeforeRollback: 2, maximumRollbacks: 2))
        #expect(throws: TrainerError.diverged(iteration: 7, rollbacks: 2, lastFailure: "the loss is not finite (nan)")) {
            try trainer.run()
        }
    }

    /// A run stopped after 6 iterations whose newest checkpoint is then damaged, resumed from
    /// disk, reproduces the uninterrupted run's log and θ bit for bit: it falls back to the
    /// checkpoint after iteration 4 and redoes 5 and 6 exactly, since ES's noise and every
    /// iteration's data come from (seed, iteration).
    @Test func resumedRunIsBitIdentical() throws {
        let method = EvolutionStrategy(samples: 4, sigma: 1, seed: 3, threads: 2)
        func trainer(_ iterations: Int, _ directory: String?) -> Trainer<TurnOffTraining, Adam> {
            Trainer(problem: Self.problem, method: method, methodSettings: "samples 4", optimizer: Adam(learningRate: 0.5),
                    configuration: TrainerConfiguration(iterations: iterations, seed: 3, checkpointInterval: 2),
                    checkpoints: directory.map(CheckpointStore.init(directory:)))
        }
        let uninterrupted = try trainer(8, nil).run()

        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try trainer(6, directory).run()
        let store = CheckpointStore(directory: directory)
        #expect(store.listing().map(\.iteration) == [6, 4])
        let newest = store.path(iteration: 6)
        let text = try String(contentsOfFile: newest, encoding: .utf8)
        try String(text.prefix(text.count / 2)).write(toFile: newest, atomically: false, encoding: .utf8)

        var rejected: [String] = [], resumedAt: [Int] = []
        let resumed = try trainer(8, directory).run(resume: true) { event in
            if case let .checkpointRejected(path, _) = event { rejected.append(path) }
            if case let .resumed(_, iteration) = event { resumedAt.append(iteration) }
        }
        #expect(rejected == [newest])
        #expect(resumedAt == [4])
        #expect(resumed.parameters.map(\.bitPattern) == uninterrupted.parameters.map(\.bitPattern))
        #expect(resumed.log.map(\.deterministicPart) == uninterrupted.log.map(\.deterministicPart))
        #expect(resumed.log.count == 8)
        #expect(uninterrupted.log.map(\.loss) != Array(repeating: uninterrupted.log[0].loss, count: 8), "training moved θ")
    }

    /// The last two checkpoints and the best survive; damaged files are named in typed errors.
    @Test func checkpointFilesAreKeptAndVerified() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(), optimizer: GradientDescent(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 10, checkpointInterval: 2), checkpoints: CheckpointStore(directory: directory))
        _ = try trainer.run()
        let store = CheckpointStore(directory: directory)
        // The loss falls monotonically, so the newest is also the best: two files.
        #expect(store.listing().map(\.iteration) == [10, 8])
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).allSatisfy { !$0.hasSuffix(".tmp") })

        // One flipped digit fails the checksum.
        let path = store.path(iteration: 10)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let digit = bytes.firstIndex(where: { (UInt8(ascii: "1")...UInt8(ascii: "8")).contains($0) })!
        bytes[digit] += 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            try store.load(TrainerState<GradientDescent>.self, from: path)
        } throws: { error in
            guard case let TrainerError.corruptCheckpoint(p, reason) = error else { return false }
            return p == path && reason.contains("checksum")
        }
        try Data("{".utf8).write(to: URL(fileURLWithPath: store.path(iteration: 8)))
        #expect {
            try trainer.latestCheckpoint()
        } throws: { error in
            guard case let TrainerError.noUsableCheckpoint(_, reasons) = error else { return false }
            return reasons.count == 2
        }

        // A checkpoint of another run is refused, not silently resumed.
        _ = try trainer.run()
        let other = Trainer(
            problem: Self.problem, method: QuadraticMethod(), optimizer: Adam(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 10, checkpointInterval: 2), checkpoints: CheckpointStore(directory: directory))
        #expect(throws: TrainerError.checkpointMismatch(path: store.path(iteration: 10), field: "optimizer", expected: "adam", found: "sgd")) {
            try other.run(resume: true)
        }
    }

    /// When the loss grows (gradient descent with too long a step on the quadratic), the best
    /// checkpoint is the first one, and it is kept beside the newest two.
    @Test func bestCheckpointIsKept() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(), optimizer: GradientDescent(learningRate: 2.5),
            configuration: TrainerConfiguration(iterations: 10, checkpointInterval: 2), checkpoints: CheckpointStore(directory: directory))
        _ = try trainer.run()
        #expect(CheckpointStore(directory: directory).listing().map(\.iteration) == [10, 8, 2])
    }

    @Test func badConfigurationIsNamed() {
        let trainer = Trainer(
            problem: Self.problem, method: QuadraticMethod(), optimizer: GradientDescent(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 0))
        #expect(throws: TrainingError.invalidOption(name: "iterations", value: "0", reason: "must be at least 1")) { try trainer.run() }
    }
}
