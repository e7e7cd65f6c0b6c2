import Foundation
import Testing

/// `neuroode compare istdp` and `train … --method cmaes` at toy size.
@Suite("istdp")
struct ISTDPCommandTests {
    @Test func compareISTDPWritesRulesAndTheLearningWindow() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(
            ["compare", "istdp", "--horizon", "120", "--iterations", "2", "--methods", "cmaes,sep-cmaes,es,fd,bptt,adjoint-partial",
             "--samples", "4", "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("istdp: learned rules"))
        let rules = try CompareCommandTests.rows(directory.appendingPathComponent("rules.csv").path)
        #expect(rules.map { $0["method"]! } == ["vogels", "cmaes", "sep-cmaes", "es", "fd", "bptt", "adjoint-partial"])
        #expect(rules.first?["vogels_distance"].flatMap(Double.init) == 0)
        for row in rules {
            let distance = try #require(Double(row["vogels_distance"]!))
            #expect(distance >= 0 && distance <= 1)
        }
        let window = try CompareCommandTests.rows(directory.appendingPathComponent("learning-window.csv").path)
        #expect(window.count == 201)
        // Vogels' window at Δt = 0: e⁰ − 2·5 Hz·20 ms = 0.8.
        let atZero = try #require(window.first { Double($0["delay_ms"]!) == 0 })
        #expect(abs(Double(atZero["vogels"]!)! - 0.8) < 1e-12)
        #expect(try String(contentsOf: directory.appendingPathComponent("learning-window.svg"), encoding: .utf8).hasPrefix("<?xml"))
    }

    @Test func trainRunsCMAESWithCheckpointsAndResumes() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try CommandLineTool.run(
            ["train", "oja", "--inputs", "2", "--method", "cmaes", "--iterations", "3", "--checkpoint-every", "2", "--checkpoint", directory.path])
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardOutput.contains("cmaes"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("checkpoint-00000003.json").path))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("cmaes-run0-state.json").path))
        let again = try CommandLineTool.run(
            ["train", "oja", "--inputs", "2", "--method", "cmaes", "--iterations", "5", "--checkpoint", directory.path, "--resume"])
        #expect(again.status == 0, "\(again.standardError)")
        let curve = try CompareCommandTests.rows(directory.appendingPathComponent("curve.csv").path)
        #expect(curve.count == 5)
        let mismatch = try CommandLineTool.run(
            ["train", "oja", "--inputs", "2", "--method", "sep-cmaes", "--iterations", "6", "--checkpoint", directory.path, "--resume"])
        #expect(mismatch.status != 0)
        #expect(mismatch.standardError.contains("method"), "\(mismatch.standardError)")
    }

    @Test func badHorizonIsAOneLineError() throws {
        for horizon in ["10", "nan"] {
            let result = try CommandLineTool.run(["compare", "istdp", "--horizon", horizon])
            #expect(result.status == 64, "\(result.standardError)")
            #expect(result.standardError.contains("--horizon"))
            #expect(result.standardError.split(separator: "\n").count == 1)
        }
    }
}
