import Foundation
import Testing

/// `neuroode rober-fit` and `compare rober-fit` as a user runs them, at tiny sizes.
@Suite("rober-fit")
struct RoberFitCommandTests {
    /// All four runs for two iterations, 2 ES samples. The unscaled adjoint cannot solve its
    /// untrained network's exploding forward problem: both its iterations are skipped, which the
    /// table and the summary report while the other runs train.
    @Test func fourRunsWriteEveryFile() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["rober-fit", "--iterations", "2", "--samples", "2", "--seed", "3", "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("[es scaled] iteration 2/2"))
        #expect(result.standardError.contains("[adjoint-partial unscaled] iteration 1: update skipped"))
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("rober-fit: 2 iterations, seed 3, adamw lr 0.005 wd 1e-06, ES 2 samples") == true)
        let rows = lines.filter { $0.hasPrefix("es ") || $0.hasPrefix("adjoint-partial ") }.map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { "\($0[0]) \($0[1])" } == ["es on", "adjoint-partial on", "es off", "adjoint-partial off"])
        // method, scaling, status, initial, final, best, it to target, skipped, rollbacks, time.
        #expect(rows.last.map { Array($0[3...7]) } == ["–", "–", "–", "–", "2"], "\(result.standardOutput)")
        for name in ["curves.csv", "summary.json", "fit.svg", "loss.svg"] {
            #expect(lines.contains("wrote " + directory.appendingPathComponent(name).path))
        }

        let curves = try String(contentsOf: directory.appendingPathComponent("curves.csv"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(curves[0].prefix(5) == ["method", "scaling", "iteration", "wall_s", "loss"])
        #expect(curves.count == 1 + 4 * 2)
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any])
        let runs = try #require(summary["runs"] as? [[String: Any]])
        #expect(runs.count == 4)
        #expect((summary["optimizer"] as? [String: Any])?["weightDecay"] as? Double == 1e-6)
        // Both methods start from the same θ, so a scaling's first loss is the same for both,
        // and the scaled one is of the order of one species maximum.
        let scaledStart = try #require(runs[0]["initialLoss"] as? Double)
        #expect(runs[1]["initialLoss"] as? Double == scaledStart)
        #expect(scaledStart > 0.01 && scaledStart < 10)
        #expect((runs[2]["initialLoss"] as? Double).map { $0 > 1e3 * scaledStart } == true)
        #expect(runs[3]["skippedIterations"] as? Int == 2 && runs[3]["finalLoss"] is NSNull)
        #expect((runs[1]["settings"] as? [String: Any])?["backwardIntegrator"] as? String == "cvodes")
        #expect((runs[0]["learnedParameters"] as? [String: Any])?.isEmpty == false, "each run's θ by name")
        #expect((summary["provenance"] as? [String: Any])?["version"] as? String != nil)

        let fit = try String(contentsOf: directory.appendingPathComponent("fit.svg"), encoding: .utf8)
        #expect(fit.hasPrefix("<?xml") && fit.contains("plot-area-3") && !fit.contains("plot-area-4"), "one panel per run")
        #expect(fit.contains("adjoint-partial unscaled"))
        let loss = try String(contentsOf: directory.appendingPathComponent("loss.svg"), encoding: .utf8)
        #expect(loss.hasPrefix("<?xml") && loss.contains("es unscaled") && loss.contains("plot-area-1"), "the whole range and the zoom")
    }

    /// `compare rober-fit` trains the scaled fit by default and the unscaled one with --unscaled.
    @Test func compareTakesTheScalingFlag() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run([
            "compare", "rober-fit", "--unscaled", "--methods", "es", "--samples", "2", "--iterations", "1", "--out", directory.path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("rober-fit-unscaled: 1 iterations × 1 run, seed 0, adamw lr 0.005"))
    }

    /// Bad input stops the command before any training, with one line naming the problem.
    @Test(arguments: [
        (["rober-fit", "--scaling", "on,maybe"], "unknown scaling 'maybe'"),
        (["rober-fit", "--methods", "bptt"], "unknown method 'bptt' for rober-fit"),
        (["rober-fit", "--methods", "es,es"], "listed twice"),
        (["rober-fit", "--unscaled"], "--unscaled does not apply here"),
        (["rober-fit", "--horizon", "5"], "--horizon does not apply here"),
        (["rober-fit", "--methods", "adjoint-partial", "--sigma", "0.1"], "--sigma does not apply here"),
        (["rober-fit", "--iterations", "0"], "invalid value '0' for --iterations"),
        (["compare", "turn-off", "--unscaled"], "--unscaled does not apply here"),
    ])
    func badOptionsAreRejected(arguments: [String], message: String) throws {
        let result = try CommandLineTool.run(arguments + ["--out", FileManager.default.temporaryDirectory.appendingPathComponent("never").path])
        #expect(result.status == 64)
        #expect(result.errorLines.count == 1 && result.standardError.contains(message), "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
    }

    @Test func configFileKeysAreChecked() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("run.json")
        try Data(#"{"scaling": "on", "iteratoins": 3}"#.utf8).write(to: config)
        let result = try CommandLineTool.run(["rober-fit", "--config", config.path])
        #expect(result.status == 64)
        #expect(result.errorLines.count == 1 && result.standardError.contains("unknown key 'iteratoins'"), "\(result.standardError)")
    }
}
