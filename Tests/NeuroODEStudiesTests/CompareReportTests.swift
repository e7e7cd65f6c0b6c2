import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies
import Testing

/// `compare`'s report in-process: summary.json as a JSONEncoder document holding each run's θ by
/// name, spreads computed from the logs, exact doubles, and the provenance; the manifest of a
/// result directory records the version and the resolved configuration.
@Suite("compare report")
struct CompareReportTests {
    static func record(_ iteration: Int, loss: Double, outcome: TrainingRecord.Outcome = .updated, event: String? = nil) -> TrainingRecord {
        TrainingRecord(
            iteration: iteration, wallTime: 0.5 * Double(iteration + 1), loss: loss, testMetric: nil, gradientNorm: 1,
            learningRate: 0.1, bytesStored: 8, peakBytes: nil, outcome: outcome, event: event)
    }

    static func report() throws -> CompareReport {
        var settings = ProblemSettings()
        settings.horizon = 50
        let runner = try TrainingCatalog.entry(named: "turn-off").make(settings, false)
        let logs = [
            [record(0, loss: 0.3), record(1, loss: 0.1 + 0.2)],
            [record(0, loss: 0.5), record(1, loss: .nan, outcome: .skipped, event: "the words do not count"), record(2, loss: 0.25)],
        ]
        let result = MethodResult(
            kind: .bptt, settings: GradientMethodSettings(kind: .bptt), clip: 10, logs: logs,
            finalParameters: [[99.5], nil], failures: [nil, "stopped"])
        return CompareReport(runner: runner, paper: false, seed: 7, optimizer: .adam(Adam(learningRate: 0.1)), results: [result])
    }

    @Test func summaryHoldsLearnedParametersByNameAndExactSpreads() throws {
        let text = try Self.report().summaryJSON()
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(summary["task"] as? String == "turn-off" && summary["seed"] as? Int == 7 && summary["parameterNames"] as? [String] == ["I"])
        #expect(summary["testMetric"] is NSNull, "absent values are null, not missing")
        let method = try #require((summary["methods"] as? [[String: Any]])?.first)
        let learned = try #require(method["learnedParameters"] as? [Any])
        #expect((learned[0] as? [String: Double]) == ["I": 99.5] && learned[1] is NSNull)
        #expect(method["skippedIterations"] as? Int == 1 && method["runsReachingTarget"] as? Int == 0)
        // Final losses 0.1 + 0.2 and 0.25: mean and the n − 1 standard deviation by hand, read
        // back with JSONDecoder (exact; JSONSerialization rounds some doubles on Linux).
        struct Spread: Decodable { let mean, sd, min, max: Double; let runs: Int }
        struct Method: Decodable { let finalLoss: Spread }
        struct Document: Decodable { let methods: [Method] }
        let final = try JSONDecoder().decode(Document.self, from: Data(text.utf8)).methods[0].finalLoss
        let values = [0.1 + 0.2, 0.25], mean = (values[0] + values[1]) / 2
        let sd = (((values[0] - mean) * (values[0] - mean) + (values[1] - mean) * (values[1] - mean)) / 1).squareRoot()
        #expect(final.runs == 2 && final.mean == mean && final.sd == sd)
        #expect(final.max == 0.1 + 0.2 && final.min == 0.25, "0.30000000000000004 is written exactly")
        #expect(text.contains("0.30000000000000004"))
        let provenance = try #require(summary["provenance"] as? [String: Any])
        #expect(provenance["version"] as? String == NeuroODEVersion.string)
        #expect(text.contains("\"problemConfiguration\" : {") && text.contains("\"horizon\" : 50"))
    }

    @Test func manifestRecordsProvenance() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("studies-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        Provenance.recordInvocation(commandLine: ["neuroode", "drift", "--config", "c.json"], arguments: ["drift", "--points=3"])
        var files = try DiagnosticFiles(directory: directory)
        files.configuration = ["dt": .number(0.1), "points": .integer(3), "integrator": .string("leapfrog")]
        try files.write("a,b\n1,2\n", to: "table.csv")
        try files.commit()
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/manifest.json"))
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let provenance = try #require(manifest["provenance"] as? [String: Any])
        #expect(provenance["version"] as? String == NeuroODEVersion.string)
        #expect(provenance["commandLine"] as? [String] == ["neuroode", "drift", "--config", "c.json"])
        #expect(provenance["arguments"] as? [String] == ["drift", "--points=3"])
        let configuration = try #require(provenance["configuration"] as? [String: Any])
        #expect(configuration["dt"] as? Double == 0.1 && configuration["points"] as? Int == 3 && configuration["integrator"] as? String == "leapfrog")
        let entry = try #require((manifest["files"] as? [[String: Any]])?.first)
        #expect(entry["name"] as? String == "table.csv" && entry["bytes"] as? Int == 8)
    }
}
