import Foundation
import Gradients
import NeuroODEStudies
import Testing

/// `compare`'s driver in-process, at a tiny size: it writes the summary and curves the command
/// writes, counts skips from the typed log, keeps finished runs on resume, and names the option
/// a bad setting came from.
@Suite("comparison study")
struct ComparisonStudyTests {
    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString)").path
    }

    static func plan(_ runner: TrainingRunner) -> ComparisonStudy.Plan {
        .gradient(.bptt, GradientMethodSettings(kind: .bptt), TrainerConfiguration(iterations: 3, maxGradientNorm: 10))
    }

    static func runner() throws -> TrainingRunner {
        var settings = ProblemSettings()
        settings.horizon = 50
        return try TrainingCatalog.entry(named: "turn-off").make(settings, false)
    }

    @Test func writesSummaryAndCurvesAndResumesFinishedRunsUnchanged() throws {
        let runner = try Self.runner()
        var study = ComparisonStudy(directory: Self.directory())
        defer { try? FileManager.default.removeItem(atPath: study.directory) }
        study.methods = ["bptt"]
        study.runs = 2
        study.seed = 5
        study.checkpointInterval = 2
        _ = try study.validate()
        let optimizer = OptimizerChoice.adam(Adam(learningRate: 0.1))
        let first = try study.run([Self.plan(runner)], on: runner, optimizer: optimizer, paper: false, progress: { _ in { _ in } })
        let summaryPath = (study.directory as NSString).appendingPathComponent("summary.json")
        #expect(first.files.contains(summaryPath))
        struct Method: Decodable { let method: String; let learnedParameters: [[String: Double]?] }
        struct Summary: Decodable { let task: String; let seed: UInt64; let methods: [Method] }
        let summary = try JSONDecoder().decode(Summary.self, from: Data(contentsOf: URL(fileURLWithPath: summaryPath)))
        #expect(summary.task == "turn-off" && summary.seed == 5 && summary.methods.map(\.method) == ["bptt"])
        #expect(summary.methods[0].learnedParameters.count == 2 && summary.methods[0].learnedParameters.allSatisfy { $0?["I"] != nil })
        let curves = try String(contentsOfFile: (study.directory as NSString).appendingPathComponent("curves.csv"), encoding: .utf8)
        #expect(curves.split(separator: "\n").count == 1 + 2 * 3, "a header and one row per run and iteration")
        #expect(first.report.results[0].logs.map(\.count) == [3, 3])

        // Resuming a finished comparison trains nothing more: every log and θ is the same.
        study.resume = true
        var events = 0
        let again = try study.run([Self.plan(runner)], on: runner, optimizer: optimizer, paper: false, progress: { _ in { event in
            if case .iteration = event { events += 1 }
        } })
        #expect(events == 0)
        #expect(again.report.results[0].logs.map { $0.map(\.deterministicPart) } == first.report.results[0].logs.map { $0.map(\.deterministicPart) })
        #expect(again.report.results[0].finalParameters == first.report.results[0].finalParameters)
    }

    @Test func badSettingsNameTheirOption() throws {
        var study = ComparisonStudy(directory: "unused")
        study.checkpointInterval = 0
        #expect(throws: CommandLineError.invalidValue(option: "--checkpoint-every", value: "0", reason: "must be at least 1")) { try study.validate() }
        study.checkpointInterval = 10
        study.methods = ["bptt", "bptt"]
        #expect(throws: CommandLineError.invalidValue(option: "--methods", value: "bptt", reason: "listed twice")) { try study.validate() }
        study.methods = []
        #expect(throws: CommandLineError.invalidValue(option: "--methods", value: "", reason: "name at least one method")) { try study.validate() }
        study.methods = ["bptt", "cmaes"]
        study.runs = 0
        #expect(throws: CommandLineError.invalidValue(option: "--runs", value: "0", reason: "must be at least 1")) { try study.validate() }
        study.runs = 1
        #expect(try study.validate() == [.gradient(.bptt), .cmaes(.full)])
    }
}
