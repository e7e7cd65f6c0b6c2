import Foundation
@testable import NeuroODECommandLine
import NeuroODEStudies
import Testing

/// A model registered by a program of one's own is run by the `neuroode` commands themselves:
/// `simulate` parses, finds it in the registry and integrates it (in-process, as a user's tool
/// that calls `NeuroODECommand.runCommandLine()` would).
@Suite("registered model through the commands")
struct RegisteredModelCommandTests {
    @Test func simulateRunsARegisteredModel() throws {
        let name = "test-rotation-command"
        if !ModelCatalog.names.contains(name) {
            try StudyRegistry.shared.register(model: ModelEntry(
                name: name, summary: "rotation y1' = ω y2, y2' = −ω y1",
                defaults: SimulationDefaults(integrator: .dopri5, endTime: 1, relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
            ) { _ in SimulationRunner(Rotation()) })
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("studies-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("rotation.json").path
        var command = try NeuroODECommand.parseAsRoot(["simulate", name, "--param", "omega=2", "--t-end", "1.5", "--times", "1.5", "--output", output])
        try command.run()
        struct Trajectory: Decodable { let model: String; let t: [Double]; let y: [[Double]] }
        let trajectory = try JSONDecoder().decode(Trajectory.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(trajectory.model == "rotation" && trajectory.t.last == 1.5)
        let last = try #require(trajectory.y.last)
        // The closed form at ωt = 3: y₁ = cos 3, y₂ = −sin 3.
        #expect(abs(last[0] - cos(3.0)) < 1e-8 && abs(last[1] + sin(3.0)) < 1e-8, "\(last)")
    }
}
