import Foundation
import Testing

/// `--preset` (evidence case B) through `compare`, `train` and `gradient`, at toy sizes.
@Suite("evidence --preset")
struct EvidencePresetCommandTests {
    static let tiny = ["evidence", "--neurons", "3", "--batch", "2", "--test-trials", "2", "--token-ms", "0.5"]

    /// The preset reaches the problem: summary.json records it, and the losses differ from case A's.
    @Test func compareRecordsThePresetAndItChangesTheRun() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func run(_ extra: [String], _ name: String) throws -> (summary: [String: Any], losses: [String]) {
            let out = directory.appendingPathComponent(name).path
            let result = try CommandLineTool.run(
                ["compare"] + Self.tiny + ["--methods", "bptt", "--iterations", "2", "--eval-every", "1", "--out", out] + extra)
            #expect(result.status == 0, "\(result.standardError)")
            let summary = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any])
            return (summary, try CompareCommandTests.rows(out + "/curves.csv").map { $0["loss"]! })
        }
        let caseA = try run([], "a"), caseB = try run(["--preset", "snic-explosive"], "b")
        func preset(_ summary: [String: Any]) -> String? {
            (summary["problemConfiguration"] as? [String: Any])?["neuronPreset"] as? String
        }
        #expect(preset(caseA.summary) == "snic")
        #expect(preset(caseB.summary) == "snic-explosive")
        #expect(caseA.losses.count == 2 && caseB.losses.count == 2)
        #expect(caseA.losses != caseB.losses)

        // The config file's "preset" key does the same as the flag.
        let config = directory.appendingPathComponent("b.json")
        try Data(#"{"preset": "snic-explosive"}"#.utf8).write(to: config)
        let fromFile = try run(["--config", config.path], "c")
        #expect(preset(fromFile.summary) == "snic-explosive")
        #expect(fromFile.losses == caseB.losses)
    }

    /// `gradient evidence --preset` names the preset in its description and changes the gradient.
    @Test func gradientTakesThePreset() throws {
        let task = ["evidence", "--neurons", "2", "--batch", "2", "--method", "bptt"]
        let caseA = try CommandLineTool.gradient(task)
        let caseB = try CommandLineTool.gradient(task + ["--preset", "snic-explosive"])
        #expect(caseA.status == 0 && caseB.status == 0, "\(caseB.standardError)")
        #expect(caseA.standardOutput.contains("preset snic"))
        #expect(caseB.standardOutput.contains("preset snic-explosive"))
        #expect(caseA.standardOutput != caseB.standardOutput)
    }

    @Test(arguments: [
        (["compare"] + tiny + ["--preset", "fast"],
         "error: unknown preset 'fast'; choose one of: hopf, snic, explosive, snic-explosive"),
        (["train", "evidence", "--method", "es", "--checkpoint", NSTemporaryDirectory() + "neuroode-preset-test", "--preset", "fast"],
         "error: unknown preset 'fast'; choose one of: hopf, snic, explosive, snic-explosive"),
        (["compare", "turn-off", "--preset", "snic-explosive"], "error: --preset does not apply here: turn-off does not take it"),
        (["gradient", "evidence", "--neurons", "2", "--batch", "2", "--preset", "fast"],
         "error: unknown preset 'fast'; choose one of: hopf, snic, explosive, snic-explosive"),
        (["gradient", "turn-off", "--preset", "snic"], "error: --preset does not apply here: turn-off does not take it"),
    ])
    func badPresetsGiveOneLine(arguments: [String], message: String) throws {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status != 0)
        #expect(result.errorLines == [message], "\(result.standardError)")
    }
}
