import Foundation
import Testing

/// Every bad input of RELIABILITY.md that can reach a simulation through the command line exits
/// non-zero, prints nothing on standard output, and prints exactly one line on standard error
/// that names the offending value — no usage dump, no stack trace.
@Suite("simulate errors")
struct SimulateErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        /// Text the error line must contain: the bad value, and where useful the option.
        let mentions: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let morrisLecarCases: [Case] = [
        // NaN/Inf and wrong lengths in the initial state.
        Case(arguments: ["--y0", "nan,0.5"], mentions: ["--y0", "y0[0] = nan"]),
        Case(arguments: ["--y0", "-40,inf"], mentions: ["--y0", "y0[1] = inf"]),
        Case(arguments: ["--y0", "-40,-inf"], mentions: ["--y0", "y0[1] = -inf"]),
        Case(arguments: ["--y0", "-40,0.5,1"], mentions: ["--y0", "3 entries", "expected 2"]),
        Case(arguments: ["--y0", "-40"], mentions: ["--y0", "1 entries", "expected 2"]),
        Case(arguments: ["--y0", "-40,,0.5"], mentions: ["--y0", "-40,,0.5", "empty item"]),
        Case(arguments: ["--y0", "-40,abc"], mentions: ["--y0", "'abc'"]),
        // Parameters: non-finite, outside the model's domain, unknown, malformed.
        Case(arguments: ["--param", "I=nan"], mentions: ["--param", "I = nan"]),
        Case(arguments: ["--param", "gK=inf"], mentions: ["--param", "gK = inf"]),
        Case(arguments: ["--param", "C=-1"], mentions: ["--param", "C = -1.0"]),
        Case(arguments: ["--param", "phi=0"], mentions: ["--param", "phi = 0.0"]),
        Case(arguments: ["--param", "gNa=120"], mentions: ["--param", "'gNa'"]),
        Case(arguments: ["--param", "I"], mentions: ["--param", "'I'", "NAME=VALUE"]),
        Case(arguments: ["--param", "I=lots"], mentions: ["--param", "'lots'"]),
        // Presets and integrators that do not exist.
        Case(arguments: ["--preset", "turbo"], mentions: ["preset", "'turbo'", "hopf"]),
        Case(arguments: ["--integrator", "rk4"], mentions: ["integrator", "'rk4'", "leapfrog"]),
        // Step sizes: zero, negative, non-finite, longer than the span, not a number.
        Case(arguments: ["--dt", "0"], mentions: ["--dt", "dt = 0.0"]),
        Case(arguments: ["--dt", "-0.1"], mentions: ["--dt", "dt = -0.1"]),
        Case(arguments: ["--dt", "nan"], mentions: ["--dt", "dt = nan"]),
        Case(arguments: ["--dt", "inf"], mentions: ["--dt", "dt = inf"]),
        Case(arguments: ["--dt", "5000"], mentions: ["--dt", "dt = 5000.0"]),
        Case(arguments: ["--dt", "fast"], mentions: ["--dt", "'fast'"]),
        // Time spans leapfrog cannot integrate.
        Case(arguments: ["--t-end", "-5"], mentions: ["--t-end", "-5.0"]),
        Case(arguments: ["--t-end", "nan"], mentions: ["--t-end", "nan"]),
        Case(arguments: ["--t-end", "inf"], mentions: ["--t-end", "inf"]),
        // Output times: non-increasing, duplicated, outside the span, non-finite, malformed.
        Case(arguments: ["--times", "5,3"], mentions: ["--times", "5.0 then 3.0"]),
        Case(arguments: ["--times", "1,2,2"], mentions: ["--times", "2.0 then 2.0"]),
        Case(arguments: ["--times", "0,2000"], mentions: ["--times", "2000.0"]),
        Case(arguments: ["--times", "0,nan"], mentions: ["--times", "nan"]),
        Case(arguments: ["--times", "1,x"], mentions: ["--times", "'x'"]),
        Case(arguments: ["--times", ""], mentions: ["--times", "empty"]),
        // Options that do not apply, and values no option accepts.
        Case(arguments: ["--spikes", "nan"], mentions: ["--spikes", "nan"]),
        Case(arguments: ["--spikes"], mentions: ["--spikes", "--output"]),
        Case(arguments: ["--rtol", "1e-6"], mentions: ["--rtol", "leapfrog"]),
        Case(arguments: ["--max-steps", "10"], mentions: ["--max-steps", "leapfrog"]),
        Case(arguments: ["--neurons", "8"], mentions: ["--neurons", "morris-lecar"]),
        Case(arguments: ["--seed", "3"], mentions: ["--seed", "morris-lecar"]),
        Case(arguments: ["--plot", "v.png"], mentions: ["--plot", "v.png"]),
        Case(arguments: ["--format", "xml"], mentions: ["--format", "'xml'"]),
        Case(arguments: ["--bogus"], mentions: ["--bogus"]),
    ]

    @Test(arguments: morrisLecarCases)
    func morrisLecarRejects(_ bad: Case) throws {
        try expectSingleLineFailure(["morris-lecar"] + bad.arguments, mentions: bad.mentions)
    }

    @Test func unknownModelIsNamed() throws {
        try expectSingleLineFailure(["morris-lecarr"], mentions: ["model", "'morris-lecarr'", "morris-lecar"])
    }

    @Test func missingModelIsNamed() throws {
        try expectSingleLineFailure([], mentions: ["<model>"])
    }

    @Test func unwritableOutputIsNamed() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let blocker = directory.appendingPathComponent("file")
        try Data().write(to: blocker)
        let path = blocker.appendingPathComponent("out.csv").path
        try expectSingleLineFailure(["morris-lecar", "--t-end", "1", "--output", path], mentions: [path])
    }

    /// A run that fails leaves no partial output behind.
    @Test func failedRunWritesNoFiles() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("ml.csv").path
        let plot = directory.appendingPathComponent("ml.svg").path
        try expectSingleLineFailure(
            ["morris-lecar", "--dt", "-1", "--output", output, "--plot", plot], mentions: ["--dt"])
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(!FileManager.default.fileExists(atPath: plot))
    }

    private func expectSingleLineFailure(_ arguments: [String], mentions: [String]) throws {
        let result = try CommandLineTool.simulate(arguments)
        #expect(result.status != 0)
        #expect(result.standardOutput.isEmpty)
        #expect(result.errorLines.count == 1, "stderr: \(result.standardError)")
        let line = result.errorLines.first ?? ""
        #expect(line.hasPrefix("error: "), "\(line)")
        for text in mentions {
            #expect(line.contains(text), "'\(text)' missing from: \(line)")
        }
        for trace in ["Fatal error", "Stack dump", "Backtrace", "Usage:"] {
            #expect(!result.standardError.contains(trace))
        }
    }
}

/// `neuroode list` names what `simulate` accepts, so scripts (and the tests) can discover it.
@Suite("list")
struct ListTests {
    @Test func listsModelsAndIntegrators() throws {
        let models = try CommandLineTool.run(["list", "models"])
        #expect(models.status == 0)
        #expect(models.standardOutput.split(separator: "\n").contains("morris-lecar"))
        let integrators = try CommandLineTool.run(["list", "integrators"])
        #expect(integrators.standardOutput.split(separator: "\n").contains("leapfrog"))
        let all = try CommandLineTool.run(["list"])
        #expect(all.standardOutput.contains("presets: hopf, snic, explosive"))
    }
}
