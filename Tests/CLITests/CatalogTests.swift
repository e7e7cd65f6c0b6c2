import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Checks that run over whatever `neuroode list` reports, so every model and integrator added to
/// the catalogs is exercised without a new test.
@Suite("catalog")
struct CatalogTests {
    static func listed(_ topic: String) throws -> [String] {
        let result = try CommandLineTool.run(["list", topic])
        #expect(result.status == 0)
        return result.standardOutput.split(separator: "\n").map(String.init)
    }

    /// Every model runs with its defaults over a short span: valid JSON whose rows have one entry
    /// per state name, times from 0 to the end strictly increasing, finite states, and a plot
    /// that parses as SVG.
    @Test func everyModelRunsWithItsDefaults() throws {
        let models = try Self.listed("models")
        #expect(models.contains("morris-lecar"))
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for model in models {
            let plot = directory.appendingPathComponent("\(model).svg")
            let result = try CommandLineTool.simulate([model, "--t-end", "10", "--format", "json", "--plot", plot.path])
            #expect(result.status == 0, "\(model): \(result.standardError)")
            guard result.status == 0 else { continue }
            let output = try SimulationJSON.parse(result.standardOutput)
            #expect(output.model == model)
            #expect(output.t.first == 0, "\(model)")
            #expect(output.t.last == 10, "\(model)")
            #expect(zip(output.t, output.t.dropFirst()).allSatisfy { $0 < $1 }, "\(model)")
            #expect(output.y.count == output.t.count, "\(model)")
            #expect(output.y.allSatisfy { $0.count == output.stateNames.count && $0.allSatisfy(\.isFinite) }, "\(model)")
            let parser = try #require(XMLParser(contentsOf: plot))
            #expect(parser.parse(), "\(model): the plot is not well-formed XML")
        }
    }

    /// Every integrator reproduces the SciPy Morris–Lecar reference through the command line:
    /// fixed-step ones at dt = 0.01 (the paper's first-order leapfrog map at dt = 0.001), adaptive
    /// ones at their default tolerances.
    @Test func everyIntegratorMatchesTheMorrisLecarReference() throws {
        let reference = try Reference.morrisLecar("hopf-default")
        let times = reference.t.map { "\($0)" }.joined(separator: ",")
        for integrator in try Self.listed("integrators") {
            var arguments = ["morris-lecar", "--integrator", integrator, "--t-end", "\(reference.tEnd)",
                             "--times", times, "--spikes", "--format", "json"]
            if integrator == "leapfrog" { arguments += ["--dt", "0.01"] }
            if integrator == "leapfrog-paper" { arguments += ["--dt", "0.001"] }
            let result = try CommandLineTool.simulate(arguments)
            #expect(result.status == 0, "\(integrator): \(result.standardError)")
            guard result.status == 0 else { continue }
            let output = try SimulationJSON.parse(result.standardOutput)
            #expect(output.integrator == integrator)
            #expect(output.t == reference.t)
            for (row, expected) in zip(output.y, reference.y) {
                #expect(abs(row[0] - expected[0]) <= 2, "\(integrator)")
                #expect(abs(row[1] - expected[1]) <= 0.02, "\(integrator)")
            }
            let spikes = try #require(output.spikes?.first)
            try #require(spikes.count == reference.spikes.count, "\(integrator)")
            for (a, b) in zip(spikes, reference.spikes) {
                #expect(abs(a - b) <= 0.3, "\(integrator)")
            }
        }
    }
}
