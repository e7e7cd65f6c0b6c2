import Foundation
import Testing

/// `neuroode compare` and `neuroode train` as a user runs them, at tiny sizes.
@Suite("compare and train")
struct CompareCommandTests {
    /// Turn-off over 100 ms with 4 ES samples: each iteration is a few milliseconds in debug.
    static let tiny = ["turn-off", "--horizon", "100", "--samples", "4"]

    /// Rows of a CSV file as dictionaries keyed by the header.
    static func rows(_ path: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    @Test func compareWritesCurvesSummaryAndPlots() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(
            ["compare"] + Self.tiny + ["--methods", "bptt,es", "--iterations", "3", "--runs", "2", "--seed", "5", "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("[es run 2/2] iteration 3/3"))
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("turn-off: 3 iterations × 2 runs, seed 5") == true)
        #expect(lines.contains { $0.hasPrefix("bptt ") } && lines.contains { $0.hasPrefix("es ") })
        #expect(lines.last?.contains("loss-vs-iteration.svg") == true)

        let rows = try Self.rows(directory.appendingPathComponent("curves.csv").path)
        #expect(rows.count == 2 * 2 * 3)
        #expect(Set(rows.map { $0["method"]! }) == ["bptt", "es"])
        // Every method starts from the same θ (I = 100), so iteration 0's loss is the same for
        // all, and equals what `gradient` reports at that point.
        let gradient = try CommandLineTool.run(["gradient", "turn-off", "--horizon", "100", "--format", "json"])
        let reference = try #require(
            (try JSONSerialization.jsonObject(with: Data(gradient.standardOutput.utf8)) as? [String: Any])?["loss"] as? Double)
        for row in rows where row["iteration"] == "0" {
            #expect(Double(row["loss"]!) == reference)
        }
        // BPTT clips at 10 by default; its gradient norm here is far below, and equals `gradient`'s.
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any])
        let methods = try #require(summary["methods"] as? [[String: Any]])
        #expect(methods.map { $0["method"] as? String } == ["bptt", "es"])
        #expect(methods[0]["maxGradientNorm"] as? Double == 10)
        #expect(methods[1]["maxGradientNorm"] is NSNull)
        #expect((methods[1]["settings"] as? [String: Any])?["samples"] as? Int == 4)
        #expect(summary["runs"] as? Int == 2 && summary["iterations"] as? Int == 3)
        for name in ["loss-vs-iteration.svg", "loss-vs-time.svg"] {
            let svg = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            #expect(svg.hasPrefix("<?xml") && svg.contains("fill-opacity=\"0.18\""), "\(name) has the band over runs")
        }
    }

    /// Evidence at toy size: the held-out accuracy is logged and plotted.
    @Test func evidenceReportsTestAccuracy() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run([
            "compare", "evidence", "--neurons", "3", "--batch", "2", "--test-trials", "4", "--token-ms", "0.5",
            "--methods", "bptt,es", "--samples", "2", "--iterations", "2", "--eval-every", "1", "--out", directory.path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let rows = try Self.rows(directory.appendingPathComponent("curves.csv").path)
        for row in rows {
            let accuracy = try #require(Double(row["test_metric"] ?? ""))
            #expect([0, 0.25, 0.5, 0.75, 1].contains(accuracy), "4 test trials")
        }
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("test_accuracy-vs-iteration.svg").path))
        #expect(result.standardOutput.contains("final test_accuracy"))
    }

    /// A run stopped after 3 iterations and resumed to 6 logs what an uninterrupted 6-iteration
    /// run logs, apart from the timing columns.
    @Test func trainResumesToTheSameCurve() throws {
        let base = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: base) }
        let whole = base.appendingPathComponent("whole").path, split = base.appendingPathComponent("split").path
        let common = ["train"] + Self.tiny + ["--method", "es", "--checkpoint-every", "2"]
        let first = try CommandLineTool.run(common + ["--iterations", "6", "--checkpoint", whole])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardOutput.contains("checkpoint: \(whole)/checkpoint-00000006.json"))
        // train draws its curve, with the task's target as a dashed line.
        #expect(first.standardOutput.contains("plots: \(whole)/loss-vs-iteration.svg"))
        let plot = try String(contentsOfFile: whole + "/loss-vs-iteration.svg", encoding: .utf8)
        #expect(plot.hasPrefix("<?xml") && plot.contains("stroke-dasharray") && plot.contains("target"))
        #expect(try CommandLineTool.run(common + ["--iterations", "3", "--checkpoint", split]).status == 0)
        let resumed = try CommandLineTool.run(common + ["--iterations", "6", "--checkpoint", split, "--resume"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("resuming from \(split)/checkpoint-00000003.json after iteration 3"))
        func deterministic(_ directory: String) throws -> [[String: String]] {
            try Self.rows(directory + "/curve.csv").map { $0.filter { $0.key != "wall_s" && $0.key != "peak_bytes" } }
        }
        let expected = try deterministic(whole)
        #expect(expected.count == 6)
        #expect(try deterministic(split) == expected)
        // A different method cannot resume this run's checkpoints.
        let mismatch = try CommandLineTool.run(["train"] + Self.tiny.dropLast(2) + ["--method", "bptt", "--iterations", "6", "--checkpoint", split, "--resume"])
        #expect(mismatch.status == 1)
        #expect(mismatch.errorLines.count == 1)
        #expect(mismatch.errorLines.first?.contains("belongs to another run: method is es, this run has bptt") == true, "\(mismatch.standardError)")
    }

    @Test func configFileSuppliesOptionsAndFlagsWin() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("run.json")
        try Data(#"{"methods": ["bptt"], "iterations": 2, "horizon": 100, "learning-rate": 0.5, "out": "\#(directory.path)/o"}"#.utf8).write(to: config)
        let result = try CommandLineTool.run(["compare", "turn-off", "--config", config.path, "--iterations", "4"])
        #expect(result.status == 0, "\(result.standardError)")
        let rows = try Self.rows(directory.path + "/o/curves.csv")
        #expect(rows.count == 4, "the flag overrides the file's 2")
        #expect(rows.allSatisfy { $0["method"] == "bptt" && $0["learning_rate"] == "0.5" })
    }

    @Test(arguments: [
        (#"{"iterations": 2, "colour": "red"}"#, "unknown key 'colour'"),
        (#"{"iterations": "many"}"#, "key 'iterations': The value 'many' is invalid for '--iterations"),
        (#"{"iterations": 2.5}"#, "key 'iterations': The value '2.5' is invalid for '--iterations"),
        (#"{"paper": 1}"#, "key 'paper': The option '--paper' does not take any value"),
        (#"[1, 2]"#, "not a JSON object of options"),
    ])
    func badConfigFilesGiveOneLine(contents: String, message: String) throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("bad.json")
        try Data(contents.utf8).write(to: config)
        let result = try CommandLineTool.run(["compare", "turn-off", "--config", config.path, "--out", directory.path])
        #expect(result.status == 64)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.hasPrefix("error: invalid value '\(config.path)' for --config:") == true, "\(result.standardError)")
        #expect(result.standardError.contains(message), "\(result.standardError)")
    }

    @Test(arguments: [
        (["compare", "turn-off", "--hidden", "10"], "error: --hidden does not apply here: turn-off does not take it"),
        (["compare", "turn-off", "--methods", "bptt,sgd"], "error: unknown method 'sgd'; choose one of: bptt, bptt-checkpointed, adjoint-full, adjoint-partial, es, hybrid, readout, fd, cmaes, sep-cmaes"),
        (["compare", "maze"], "error: unknown task 'maze'; choose one of: turn-off, evidence, spiral, rober-fit, lif-timing, oja, istdp"),
        (["compare", "turn-off", "--iterations", "0"], "error: invalid value '0' for --iterations: must be at least 1"),
        (["compare", "turn-off", "--samples", "3", "--methods", "es"], "error: --samples: invalid samples = 3: mirrored sampling needs an even count"),
        (["compare", "turn-off", "--optimizer", "lbfgs"], "error: unknown optimizer 'lbfgs'; choose one of: adam, adamw, sgd, rmsprop"),
        (["train", "turn-off", "--iterations", "1"], "error: invalid value '' for --checkpoint: give the checkpoint directory"),
        (["train", "turn-off", "--method", "bptt", "--sigma", "1", "--checkpoint", "/tmp/x"], "error: --sigma does not apply here: it is an option of es and hybrid, not bptt"),
    ])
    func badOptionsGiveOneLine(arguments: [String], message: String) throws {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status == 64)
        #expect(result.errorLines == [message])
    }
}
