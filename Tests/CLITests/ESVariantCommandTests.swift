import Foundation
import Testing

/// The ES variants (README "ES variants") through `compare`, `train` and `gradient`, at toy sizes.
@Suite("ES variants on the command line")
struct ESVariantCommandTests {
    static let tiny = ["evidence", "--neurons", "3", "--batch", "2", "--test-trials", "2", "--token-ms", "0.5"]

    /// `compare` names readout and hybrid in its files, records their groups, and with
    /// `--resume` a second identical command resumes every run and writes the same curves.
    @Test func compareRunsTheVariantsAndResumes() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out").path
        let arguments = ["compare"] + Self.tiny + [
            "--methods", "readout,hybrid", "--samples", "4", "--es-groups", "W_rec,W_in", "--alternate", "--variant", "plain",
            "--iterations", "3", "--eval-every", "1", "--out", out,
        ]
        let first = try CommandLineTool.run(arguments)
        #expect(first.status == 0, "\(first.standardError)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))) as? [String: Any])
        let methods = try #require(summary["methods"] as? [[String: Any]])
        #expect(methods.map { $0["method"] as? String } == ["readout", "hybrid"])
        let hybrid = try #require(methods[1]["settings"] as? [String: Any])
        #expect(hybrid["esGroups"] as? String == "W_rec,W_in" && hybrid["exactGroups"] as? String == "W_out,b_out")
        #expect(hybrid["alternate"] as? Bool == true && hybrid["variant"] as? String == "plain")
        #expect(first.standardOutput.contains("readout") && first.standardOutput.contains("hybrid"))
        let curves = try CompareCommandTests.rows(out + "/curves.csv")
        #expect(curves.map { $0["method"]! } == ["readout", "readout", "readout", "hybrid", "hybrid", "hybrid"])

        let second = try CommandLineTool.run(arguments + ["--resume"])
        #expect(second.status == 0, "\(second.standardError)")
        #expect(second.standardError.contains("[readout run 1/1] resuming from"))
        #expect(second.standardError.contains("[hybrid run 1/1] resuming from"))
        let again = try CompareCommandTests.rows(out + "/curves.csv")
        #expect(again.map { [$0["loss"]!, $0["test_metric"]!, $0["grad_norm"]!] } == curves.map { [$0["loss"]!, $0["test_metric"]!, $0["grad_norm"]!] })
    }

    /// `train --setup authors` with W_rec frozen runs the authors' configuration.
    @Test func trainTakesTheAuthorsSetupAndFrozenGroups() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run([
            "train", "evidence", "--setup", "authors", "--neurons", "3", "--batch", "2", "--test-trials", "2", "--method", "hybrid",
            "--samples", "4", "--alternate", "--train-groups", "W_in,W_out,b_out", "--iterations", "2", "--checkpoint", directory.path,
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let checkpoint = try #require(try FileManager.default.contentsOfDirectory(atPath: directory.path).first { $0.hasPrefix("checkpoint-") })
        let text = try String(contentsOfFile: directory.appendingPathComponent(checkpoint).path, encoding: .utf8)
        // The authors' timing (4 ms tokens, batch 50, here resized) and the frozen W_rec are part of the run's identity.
        #expect(text.contains(#"\"tokenDuration\":4"#), "\(text.prefix(600))")
        #expect(text.contains("frozenGroups=W_rec"))
    }

    /// `gradient --train-groups` on BPTT and the readout baseline: zero on the frozen groups,
    /// BPTT's value on the others (the readout's to rounding).
    @Test func gradientRestrictsToTheTrainedGroups() throws {
        let task = ["evidence", "--neurons", "2", "--batch", "2", "--format", "json"]
        func gradient(_ extra: [String]) throws -> [String: Double] {
            let result = try CommandLineTool.gradient(task + extra)
            #expect(result.status == 0, "\(result.standardError)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            return try #require(json["gradient"] as? [String: Double])
        }
        let full = try gradient(["--method", "bptt"])
        let frozen = try gradient(["--method", "bptt", "--train-groups", "W_rec,W_out"])
        let readout = try gradient(["--method", "readout"])
        #expect(full.count == 2 * 50 + 4 + 6 + 3 && frozen.count == full.count && readout.count == full.count)
        for (name, value) in full {
            let trained = name.hasPrefix("W_rec") || name.hasPrefix("W_out")
            #expect(frozen[name] == (trained ? value : 0), "\(name)")
            let isReadout = name.hasPrefix("W_out") || name.hasPrefix("b_out")
            #expect(isReadout ? abs(readout[name]! - value) <= 1e-10 * max(abs(value), 1e-3) : readout[name] == 0, "\(name)")
        }
    }

    @Test(arguments: [
        (["compare"] + tiny + ["--methods", "hybrid", "--es-groups", "W_x"],
         "error: unknown parameter group 'W_x'; choose one of: W_in, W_rec, W_out, b_out"),
        (["compare"] + tiny + ["--methods", "bptt,readout", "--train-groups", "W_out,W_x"],
         "error: unknown parameter group 'W_x'; choose one of: W_in, W_rec, W_out, b_out"),
        (["compare"] + tiny + ["--methods", "readout", "--alternate"],
         "error: --alternate does not apply here: it is an option of es and hybrid, not readout"),
        (["compare"] + tiny + ["--methods", "readout", "--train-groups", "W_in"],
         "error: invalid value 'W_in' for --train-groups: readout trains only the loss's groups (W_out, b_out); use es or hybrid for it"),
        (["compare"] + tiny + ["--setup", "fast"], "error: unknown setup 'fast'; choose one of: paper, authors"),
        (["compare"] + tiny + ["--setup", "authors", "--paper"],
         "error: --paper does not apply here: --setup authors already names the size and timing"),
        (["gradient", "evidence", "--neurons", "2", "--batch", "2", "--method", "readout", "--es-groups", "W_in"],
         "error: --es-groups does not apply here: it is an option of es and hybrid, not readout"),
    ])
    func badVariantOptionsGiveOneLine(arguments: [String], message: String) throws {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status != 0)
        #expect(result.errorLines == [message], "\(result.standardError)")
    }
}
