import Foundation
import Testing

/// `neuroode compare oja` at toy size.
@Suite("oja")
struct OjaCommandTests {
    @Test func compareOjaWritesRulesLandscapeAndCovariance() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(
            ["compare", "oja", "--inputs", "2", "--iterations", "2", "--methods", "cmaes,sep-cmaes,es,fd,bptt", "--samples", "4",
             "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("oja, N = 2: distance of the learned rule to Oja's"))
        let rules = try CompareCommandTests.rows(directory.appendingPathComponent("rules.csv").path)
        #expect(rules.map { $0["method"]! } == ["cmaes", "sep-cmaes", "es", "fd", "bptt"])
        for row in rules {
            let distance = try #require(Double(row["oja_distance"]!))
            #expect(distance >= 0 && distance <= 1)
            #expect(row.keys.filter { $0.hasPrefix("A_") }.count == 27)
        }
        let landscape = try CompareCommandTests.rows(directory.appendingPathComponent("landscape.csv").path)
        #expect(landscape.count == 41)
        // At α = 1 the rule is Oja's: stable, and far better than the random rule at α = 0.
        let atOja = try #require(landscape.first { Double($0["alpha"]!) == 1 }.flatMap { Double($0["meta_loss"]!) })
        let atStart = try #require(landscape.first { Double($0["alpha"]!) == 0 }.flatMap { Double($0["meta_loss"]!) })
        #expect(atOja < 0.1 && atStart > 0.5)
        #expect(try String(contentsOf: directory.appendingPathComponent("landscape.svg"), encoding: .utf8).hasPrefix("<?xml"))
        // CMA-ES saves its learned covariance: 27 × 27, symmetric, positive diagonal.
        let state = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("cmaes-run0-state.json"))) as? [String: Any])
        let covariance = try #require(state["samplingCovariance"] as? [Double])
        #expect(covariance.count == 27 * 27)
        #expect((0..<27).allSatisfy { covariance[$0 * 28] > 0 })
        #expect((state["parameterNames"] as? [String])?.first == "A_000")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any])
        let methods = try #require(summary["methods"] as? [[String: Any]])
        #expect((methods[0]["settings"] as? [String: Any])?["population"] as? Int == 13)  // 4 + ⌊3 ln 27⌋
    }

    @Test func badInputsAreOneLineErrors() throws {
        for (arguments, fragment) in [
            (["compare", "oja", "--inputs", "1"], "--inputs"),
            (["compare", "oja", "--inputs", "0"], "--inputs"),
            (["compare", "turn-off", "--inputs", "3"], "--inputs"),
            (["compare", "oja", "--methods", "cma"], "cmaes"),
            (["compare", "oja", "--methods", "cmaes", "--sigma", "0"], "sigma"),
            (["compare", "oja", "--methods", "bptt", "--sigma", "0.1"], "--sigma"),
            (["train", "oja", "--method", "cmaes", "--sigma", "-1", "--checkpoint", "/tmp/unused"], "sigma"),
        ] {
            let result = try CommandLineTool.run(arguments)
            #expect(result.status == 64, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(fragment), "\(arguments): \(result.standardError)")
            #expect(result.standardError.split(separator: "\n").count == 1, "\(arguments): \(result.standardError)")
        }
    }
}

extension OjaCommandTests {
    /// A run that diverges is a result: its iterations are kept, the stop is reported, the other
    /// methods still run. ES with σ = 50 samples only rules that blow up at the first step.
    @Test func aDivergingRunIsReportedAndTheOthersGoOn() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(
            ["compare", "oja", "--inputs", "2", "--methods", "es,bptt", "--sigma", "50", "--samples", "4", "--iterations", "20",
             "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("oja: 20 iterations × 1 run"))
        // 3 failures per rollback, 5 rollbacks, and the 18th failure stops it: 17 logged iterations.
        #expect(result.standardOutput.contains("es run 1 stopped after 17 iterations: training diverged at iteration 18"))
        #expect(result.standardError.contains("[es run 1/1] stopped: training diverged"))
        let curves = try CompareCommandTests.rows(directory.appendingPathComponent("curves.csv").path)
        #expect(curves.filter { $0["method"] == "es" }.count == 17)
        #expect(curves.filter { $0["method"] == "bptt" }.count == 20)
        let rules = try CompareCommandTests.rows(directory.appendingPathComponent("rules.csv").path)
        #expect(rules.map { $0["method"]! } == ["bptt"])
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("summary.json"))) as? [String: Any])
        let methods = try #require(summary["methods"] as? [[String: Any]])
        #expect((methods[0]["stoppedRuns"] as? [[String: Any]])?.first?["run"] as? Int == 0)
        #expect((methods[1]["stoppedRuns"] as? [Any])?.isEmpty == true)
    }
}
