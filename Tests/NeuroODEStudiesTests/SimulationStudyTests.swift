import Foundation
import NeuroODE
import NeuroODEStudies
import Testing

/// `simulate`'s driver in-process: the JSON document holds the trajectory exactly as solved, the
/// provenance and the resolved settings; CSV to a file gets a provenance sidecar; bad settings
/// name their option before anything is solved.
@Suite("simulation study")
struct SimulationStudyTests {
    static func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("simulate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func jsonHoldsTheSolvedTrajectoryExactlyWithProvenanceAndResolvedSettings() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var study = SimulationStudy(model: "morris-lecar")
        study.endTime = 5
        study.times = [0, 0.1 + 0.2, 5]
        study.output = directory.appendingPathComponent("run.json").path
        try study.run()
        // The reference: the same request solved directly, outside the driver's writing.
        let plan = try study.validate()
        let solution = try plan.runner.run(plan.request)
        struct Document: Decodable {
            struct Provenance: Decodable { let version: String; let settings: SimulationStudy }
            let t: [Double]
            let y: [[Double]]
            let stats: [String: Double]
            let provenance: Provenance
        }
        let text = try String(contentsOfFile: try #require(study.output), encoding: .utf8)
        let document = try JSONDecoder().decode(Document.self, from: Data(text.utf8))
        #expect(document.t == [0, 0.1 + 0.2, 5] && text.contains("0.30000000000000004"))
        #expect(document.y == solution.times.indices.map { Array(solution.state(at: $0)) }, "every state read back bit for bit")
        #expect(document.stats["steps"] == Double(solution.statistics.steps) && document.stats["wallTimeSeconds"] != nil)
        #expect(document.provenance.version == NeuroODEVersion.string)
        let settings = document.provenance.settings
        #expect(settings.integrator == "leapfrog" && settings.dt == 0.1 && settings.endTime == 5 && settings.precision == .f64)
        #expect(settings.format == .json && settings.rtol == nil, "an adaptive integrator's options are not recorded for a fixed step")
    }

    @Test func csvToAFileGetsAProvenanceSidecar() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var study = SimulationStudy(model: "rober")
        study.output = directory.appendingPathComponent("rober.csv").path
        study.rtol = 1e-7
        try study.run()
        let csv = try String(contentsOfFile: try #require(study.output), encoding: .utf8)
        #expect(csv.hasPrefix("t,"), "the CSV itself stays plain")
        struct Sidecar: Decodable { let version: String; let commandLine: [String]; let settings: SimulationStudy }
        let sidecar = try JSONDecoder().decode(
            Sidecar.self, from: Data(contentsOf: URL(fileURLWithPath: Provenance.sidecarPath(for: try #require(study.output)))))
        #expect(sidecar.version == NeuroODEVersion.string && sidecar.settings.rtol == 1e-7 && sidecar.settings.format == .csv)
        #expect(sidecar.settings.integrator != nil && sidecar.settings.atol != nil && sidecar.settings.maxSteps != nil && sidecar.settings.dt == nil)
    }

    @Test func badSettingsNameTheirOptionBeforeSolving() {
        var study = SimulationStudy(model: "morris-lecar")
        study.rtol = 1e-6
        #expect(throws: CommandLineError.inapplicable(option: "--rtol", reason: "leapfrog takes a fixed step (--dt)")) { try study.validate() }
        study = SimulationStudy(model: "morris-lecar")
        study.neurons = 3
        #expect(throws: CommandLineError.inapplicable(option: "--neurons", reason: "morris-lecar is not a network model")) { try study.validate() }
        study = SimulationStudy(model: "morris-lecar")
        study.plot = "plot.png"
        #expect(throws: CommandLineError.invalidValue(option: "--plot", value: "plot.png", reason: "the plot is SVG: give a file name ending in .svg")) {
            try study.validate()
        }
    }
}
