import Foundation
import Testing
@testable import Gradients
import NeuroODE

/// Checkpoints under faults a checksum cannot catch: another run's optimizer settings, contents
/// that are consistent JSON but not a consistent state, a stop request between checkpoints, and
/// a checkpoint directory that cannot be written.
@Suite("checkpoint hardening")
struct CheckpointHardeningTests {
    static let problem = TrainerTests.problem

    private static func trainer(
        _ optimizer: Adam, iterations: Int, directory: String, interval: Int = 4
    ) -> Trainer<TurnOffTraining, Adam> {
        Trainer(
            problem: problem, method: EvolutionStrategy(samples: 4, sigma: 1, seed: 3, threads: 1), methodSettings: "samples 4",
            optimizer: optimizer, configuration: TrainerConfiguration(iterations: iterations, seed: 3, checkpointInterval: interval),
            checkpoints: CheckpointStore(directory: directory))
    }

    /// Every hyperparameter of the optimizer is part of the run's identity: a resume under another
    /// learning rate or weight decay is refused, naming the setting and both values.
    @Test(arguments: [
        (Adam(learningRate: 0.2), "learningRate", "0.5", "0.2"),
        (Adam.adamW(learningRate: 0.5, weightDecay: 0.3), "weightDecay", "0.1", "0.3"),
        (Adam(learningRate: 0.5, beta1: 0.8), "beta1", "0.9", "0.8"),
    ])
    func resumeUnderOtherOptimizerSettingsIsRefused(other: Adam, field: String, saved: String, requested: String) throws {
        let directory = try TrainerTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let original = field == "weightDecay" ? Adam.adamW(learningRate: 0.5, weightDecay: 0.1) : Adam(learningRate: 0.5)
        _ = try Self.trainer(original, iterations: 4, directory: directory).run()
        #expect {
            try Self.trainer(other, iterations: 8, directory: directory).run(resume: true)
        } throws: { error in
            guard case let TrainerError.checkpointMismatch(_, name, expected, found) = error else { return false }
            return name == field && Double(expected) == Double(requested) && Double(found) == Double(saved)
        }
        // The same settings resume.
        let resumed = try Self.trainer(original, iterations: 8, directory: directory).run(resume: true)
        #expect(resumed.nextIteration == 8)
    }

    /// A state whose checksum is valid but whose contents contradict themselves is rejected as
    /// corrupt (and an older intact checkpoint used), never loaded.
    @Test(arguments: [
        ("negative next iteration", #""nextIteration":4"#, #""nextIteration":-1"#, "negative"),
        ("log shorter than the iterations", #""nextIteration":4"#, #""nextIteration":5"#, "rows for 5 iterations"),
        ("θ of the wrong length", #""parameters":["#, #""parameters":[1,"#, "θ has 2 entries"),
    ])
    func consistentChecksumInconsistentStateIsRejected(what: String, find: String, replace: String, reason: String) throws {
        let directory = try TrainerTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = CheckpointStore(directory: directory)
        _ = try Self.trainer(Adam(learningRate: 0.5), iterations: 4, directory: directory, interval: 2).run()
        #expect(store.listing().map(\.iteration) == [4, 2])
        // Rewrite the newest with the edit and a correct checksum, as a buggy writer would.
        let path = store.path(iteration: 4)
        let payload = try Self.statePayload(path)
        #expect(payload.contains(find), "\(what): the fixture matches the encoding")
        let edited = payload.replacingOccurrences(of: find, with: replace)
        try Data(CheckpointStore.document(Data(edited.utf8))).write(to: URL(fileURLWithPath: path))

        var rejected: [String] = []
        let state = try Self.trainer(Adam(learningRate: 0.5), iterations: 4, directory: directory, interval: 2)
            .latestCheckpoint { event in
                if case let .checkpointRejected(_, message) = event { rejected.append(message) }
            }
        #expect(state?.nextIteration == 2, "\(what): the older intact checkpoint is used")
        #expect(rejected.count == 1 && rejected[0].contains("inconsistent contents") && rejected[0].contains(reason), "\(rejected)")
    }

    /// The bytes of the `state` value of a checkpoint file in the plain-JSON format.
    private static func statePayload(_ path: String) throws -> String {
        let contents = try String(contentsOfFile: path, encoding: .utf8)
        let start = try #require(contents.range(of: #"","state":"#)).upperBound
        let end = try #require(contents.range(of: "}", options: .backwards)).lowerBound
        return String(contents[start..<end])
    }

    /// A checkpoint is one plain JSON object, its checksum a field over the state's bytes; a file
    /// of the earlier format (the state's JSON, then a line `checksum fnv1a64 <hex>`, as written
    /// before the change) still loads to the same state and resumes, so that long runs
    /// checkpointed earlier continue.
    @Test func plainJSONAndEarlierFormatBothLoad() throws {
        let directory = try TrainerTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = CheckpointStore(directory: directory)
        _ = try Self.trainer(Adam(learningRate: 0.5), iterations: 4, directory: directory, interval: 2).run()
        let path = store.path(iteration: 4)
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let checksum = try #require(object?["checksum"] as? String)
        let payload = try Self.statePayload(path)
        #expect(checksum == "fnv1a64 \(AtomicFile.checksum(Data(payload.utf8)))")
        #expect(object?["state"] is [String: Any])
        let plain = try store.load(TrainerState<Adam>.self, from: path)

        try (payload + "\nchecksum fnv1a64 \(AtomicFile.checksum(Data(payload.utf8)))\n").write(toFile: path, atomically: true, encoding: .utf8)
        let earlier = try store.load(TrainerState<Adam>.self, from: path)
        #expect(earlier.nextIteration == 4 && earlier.parameters == plain.parameters && earlier.log.map(\.loss) == plain.log.map(\.loss))
        let resumed = try Self.trainer(Adam(learningRate: 0.5), iterations: 6, directory: directory, interval: 2).run(resume: true)
        let straight = try Self.trainer(Adam(learningRate: 0.5), iterations: 6, directory: directory + "-straight", interval: 2).run()
        defer { try? FileManager.default.removeItem(atPath: directory + "-straight") }
        #expect(resumed.nextIteration == 6 && resumed.parameters == straight.parameters, "resuming the earlier format continues the same run")

        // A flipped digit in either format is caught.
        try (payload.replacingOccurrences(of: "\"nextIteration\":4", with: "\"nextIteration\":3")
             + "\nchecksum fnv1a64 \(AtomicFile.checksum(Data(payload.utf8)))\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: TrainerError.self) { try store.load(TrainerState<Adam>.self, from: path) }
        var document = CheckpointStore.document(Data(payload.utf8))
        document[document.count - 4] ^= 1
        try document.write(to: URL(fileURLWithPath: path))
        #expect(throws: TrainerError.self) { try store.load(TrainerState<Adam>.self, from: path) }
    }

    @Test func inconsistencyNamesEachField() throws {
        var state = try Self.trainer(Adam(learningRate: 0.5), iterations: 4, directory: "/nonexistent").initialState()
        #expect(state.inconsistency(parameterCount: 1) == nil)
        #expect(state.inconsistency(parameterCount: 2)?.contains("θ has 1 entries") == true)
        state.rollbacks = -1
        #expect(state.inconsistency(parameterCount: 1)?.contains("negative failure or rollback count") == true)
        state.rollbacks = 0
        state.elapsed = .nan
        #expect(state.inconsistency(parameterCount: 1)?.contains("elapsed") == true)
        state.elapsed = 0
        state.parameters = [.infinity]
        #expect(state.inconsistency(parameterCount: 1)?.contains("not finite") == true)
    }

    /// A stop request between checkpoints ends the run after the current iteration with a
    /// checkpoint of exactly that state; resuming it gives the uninterrupted run bit for bit.
    @Test func stopRequestCheckpointsAndResumesBitIdentically() throws {
        let directory = try TrainerTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let uninterrupted = try Self.trainer(Adam(learningRate: 0.5), iterations: 8, directory: directory + "/whole").run()

        let counter = StopAfter(iterations: 3)
        var stopping = Self.trainer(Adam(learningRate: 0.5), iterations: 8, directory: directory + "/split")
        stopping.shouldStop = { counter.tick() }
        let stopped = try stopping.run()
        #expect(stopped.nextIteration == 3)
        #expect(CheckpointStore(directory: directory + "/split").listing().first?.iteration == 3)
        let resumed = try Self.trainer(Adam(learningRate: 0.5), iterations: 8, directory: directory + "/split").run(resume: true)
        #expect(resumed.parameters.map(\.bitPattern) == uninterrupted.parameters.map(\.bitPattern))
        #expect(resumed.log.map(\.deterministicPart) == uninterrupted.log.map(\.deterministicPart))
    }

    @Test func unwritableCheckpointDirectoryFailsBeforeTraining() throws {
        let directory = try TrainerTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/file"
        try Data().write(to: URL(fileURLWithPath: file))
        var iterations = 0
        #expect(throws: TrainerError.self) {
            try Self.trainer(Adam(learningRate: 0.5), iterations: 4, directory: file + "/checkpoints").run { event in
                if case .iteration = event { iterations += 1 }
            }
        }
        #expect(iterations == 0)
    }
}

/// Says "stop" once `iterations` calls have been made (the trainer asks once per iteration).
final class StopAfter: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    init(iterations: Int) { remaining = iterations }
    func tick() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        remaining -= 1
        return remaining <= 0
    }
}
