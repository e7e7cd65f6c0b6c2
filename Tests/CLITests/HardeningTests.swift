import Foundation
import Testing

/// The failure classes of the hardening audit (RELIABILITY.md "Fault table"), each checked over
/// several commands and options rather than the one example the audit found.
@Suite("hardening")
struct HardeningTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        /// Text the single error line must contain.
        let mentions: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    /// Exit status 1 or 64, nothing on standard output, one line on standard error naming `mentions`.
    static func expectOneErrorLine(_ result: CommandLineTool.Result, _ mentions: [String], _ what: String) {
        #expect(result.status == 1 || result.status == 64, "\(what): status \(result.status) (\(result.standardError))")
        #expect(result.standardOutput.isEmpty, "\(what): printed \(result.standardOutput.prefix(200))")
        #expect(result.errorLines.count == 1, "\(what): \(result.standardError)")
        for text in mentions {
            #expect(result.standardError.contains(text), "\(what): '\(text)' missing from \(result.standardError)")
        }
    }

    // MARK: Span/step ratios that overflow an Int

    static let ratioCases: [Case] = [
        Case(arguments: ["simulate", "morris-lecar", "--t-end", "1e300", "--times", "0,1"], mentions: ["--t-end", "1e+300", "steps"]),
        Case(arguments: ["simulate", "hodgkin-huxley", "--t-end", "1e300", "--times", "0,1"], mentions: ["--t-end", "steps"]),
        Case(arguments: ["simulate", "lif", "--t-end", "1e300", "--times", "0,1"], mentions: ["--t-end", "steps"]),
        Case(arguments: ["simulate", "morris-lecar", "--t-end", "100", "--dt", "1e-300", "--times", "0,1"], mentions: ["--dt", "1e-300"]),
        Case(arguments: ["simulate", "morris-lecar", "--integrator", "dopri5", "--t-end", "1e300", "--times", "0,1", "--max-steps", "100"],
             mentions: ["step budget of 100"]),
        Case(arguments: ["gradient", "turn-off", "--horizon", "1e300"], mentions: ["--horizon", "memory"]),
        Case(arguments: ["gradient", "turn-off", "--horizon", "1e300", "--method", "es", "--samples", "2"], mentions: ["1e+300", "steps"]),
        Case(arguments: ["gradient", "turn-off", "--horizon", "10", "--dt", "1e-300", "--method", "es", "--samples", "2"], mentions: ["1e-300", "steps"]),
        Case(arguments: ["compare", "turn-off", "--horizon", "1e300", "--iterations", "1"], mentions: ["--horizon", "memory"]),
        Case(arguments: ["landscape", "turn-off", "--horizon", "1e300", "--methods", "es"], mentions: ["--horizon", "steps"]),
        Case(arguments: ["drift", "--integrator", "leapfrog", "--horizon", "1e300"], mentions: ["--horizon", "steps"]),
        Case(arguments: ["bench", "gradients", "--horizons", "1e300"], mentions: ["--horizons", "steps"]),
    ]

    @Test(arguments: ratioCases)
    func overflowingSpanStepRatiosAreTypedErrors(_ c: Case) throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let extra = ["compare", "landscape", "drift"].contains(c.arguments[0]) ? ["--out", directory.path] : []
        Self.expectOneErrorLine(try CommandLineTool.run(c.arguments + extra), c.mentions, c.testDescription)
    }

    // MARK: Sizes no machine holds

    static let sizeCases: [Case] = [
        Case(arguments: ["simulate", "ml-network", "--neurons", "1000000000"], mentions: ["--neurons", "1000000000", "memory", "--max-memory"]),
        Case(arguments: ["simulate", "ml-network", "--batch", "1000000000"], mentions: ["--batch", "memory"]),
        Case(arguments: ["simulate", "morris-lecar", "--t-end", "1e12"], mentions: ["--t-end", "memory"]),
        Case(arguments: ["simulate", "morris-lecar", "--integrator", "dopri5", "--max-steps", "1000000000000"], mentions: ["--max-steps", "memory"]),
        Case(arguments: ["gradient", "evidence", "--neurons", "1000000"], mentions: ["--neurons", "memory"]),
        Case(arguments: ["gradient", "evidence", "--batch", "100000000", "--neurons", "2"], mentions: ["--batch", "memory"]),
        Case(arguments: ["gradient", "spiral", "--hidden", "1000000000000"], mentions: ["--hidden", "memory"]),
        Case(arguments: ["gradient", "spiral", "--windows", "1000000000"], mentions: ["--windows", "memory"]),
        Case(arguments: ["gradient", "turn-off", "--method", "es", "--samples", "100000000000000"], mentions: ["--samples", "memory"]),
        Case(arguments: ["compare", "evidence", "--test-trials", "100000000000"], mentions: ["--test-trials", "memory"]),
        Case(arguments: ["compare", "turn-off", "--iterations", "1000000000000"], mentions: ["--iterations", "memory"]),
        Case(arguments: ["train", "spiral", "--hidden", "100000000000", "--checkpoint", "/tmp/neuroode-never-written"], mentions: ["--hidden", "memory"]),
        Case(arguments: ["rober-fit", "--iterations", "1000000000000"], mentions: ["--iterations", "memory"]),
        Case(arguments: ["landscape", "turn-off", "--points", "100000000000"], mentions: ["--points", "memory"]),
        Case(arguments: ["drift", "--points", "100000000000"], mentions: ["--points", "memory"]),
        Case(arguments: ["bench", "simulate", "--neurons", "1000000000"], mentions: ["--neurons", "memory"]),
        Case(arguments: ["bench", "simulate", "--steps", "1000000000000000"], mentions: ["--steps", "memory"]),
        Case(arguments: ["bench", "bptt", "--batch", "100000000"], mentions: ["--batch", "memory"]),
        Case(arguments: ["bench", "gradients", "--horizons", "100,1e9"], mentions: ["--horizons", "memory"]),
        Case(arguments: ["simulate", "morris-lecar", "--t-end", "10000", "--max-memory", "1M"], mentions: ["--t-end", "--max-memory", "1 MB"]),
        Case(arguments: ["simulate", "morris-lecar", "--max-memory", "lots"], mentions: ["--max-memory", "'lots'"]),
    ]

    @Test(arguments: sizeCases)
    func sizesBeyondMemoryAreRefusedBeforeAllocating(_ c: Case) throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let extra = ["compare", "rober-fit", "landscape", "drift"].contains(c.arguments[0]) ? ["--out", directory.path] : []
        let clock = ContinuousClock(), start = clock.now
        Self.expectOneErrorLine(try CommandLineTool.run(c.arguments + extra), c.mentions, c.testDescription)
        #expect(clock.now - start < .seconds(30), "refused before any work")
    }

    /// `--max-memory` raises the limit as well as lowering it.
    @Test func maxMemoryAdmitsWhatItAllows() throws {
        let refused = try CommandLineTool.simulate(["morris-lecar", "--t-end", "2000", "--max-memory", "64K"])
        Self.expectOneErrorLine(refused, ["--t-end"], "64K")
        let admitted = try CommandLineTool.simulate(["morris-lecar", "--t-end", "2000", "--max-memory", "64M"])
        #expect(admitted.status == 0, "\(admitted.standardError)")
    }

    // MARK: Negative numbers as values

    static let negativeCases: [Case] = [
        Case(arguments: ["simulate", "morris-lecar", "--integrator", "dopri5", "--max-steps", "-5"], mentions: ["'-5'", "--max-steps", "at least 1"]),
        Case(arguments: ["simulate", "ml-network", "--seed", "-1"], mentions: ["'-1'", "--seed"]),
        Case(arguments: ["simulate", "ml-network", "--neurons", "-3"], mentions: ["'-3'", "--neurons"]),
        Case(arguments: ["gradient", "evidence", "--seed", "-1"], mentions: ["'-1'", "--seed"]),
        Case(arguments: ["gradient", "turn-off", "--method", "es", "--samples", "-4"], mentions: ["-4", "--samples"]),
        Case(arguments: ["compare", "turn-off", "--iterations", "-3"], mentions: ["'-3'", "--iterations"]),
        Case(arguments: ["compare", "turn-off", "--runs", "-2"], mentions: ["'-2'", "--runs"]),
        Case(arguments: ["simulate", "morris-lecar", "--threads", "-2"], mentions: ["'-2'", "--threads"]),
    ]

    @Test(arguments: negativeCases)
    func negativeValuesGetRangeErrorsNotMissingValue(_ c: Case) throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let extra = c.arguments[0] == "compare" ? ["--out", directory.path] : []
        let result = try CommandLineTool.run(c.arguments + extra)
        Self.expectOneErrorLine(result, c.mentions, c.testDescription)
        #expect(!result.standardError.contains("Missing value"))
    }

    /// A negative value is still a value where one is allowed.
    @Test func negativeThresholdStillWorks() throws {
        let result = try CommandLineTool.simulate(["morris-lecar", "--t-end", "50", "--spikes", "-20", "--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
    }

    // MARK: Configuration files

    static let configCases: [(command: [String], contents: String, mentions: [String])] = [
        (["compare", "turn-off"], #"{"samples": null}"#, ["'samples'", "null"]),
        (["compare", "turn-off"], #"{"methods": ["es", 1]}"#, ["'methods'", "mixing"]),
        (["compare", "turn-off"], #"{"horizon": {"ms": 3}}"#, ["'horizon'", "object"]),
        (["simulate", "morris-lecar"], #"{"t-end": null}"#, ["'t-end'"]),
        (["simulate", "morris-lecar"], #"{"param": ["I=90", null]}"#, ["'param'"]),
        (["landscape", "turn-off"], #"{"points": null}"#, ["'points'"]),
    ]

    @Test(arguments: 0..<configCases.count)
    func configNullsAndMixedListsNameTheKey(_ index: Int) throws {
        let c = Self.configCases[index]
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.json")
        try Data(c.contents.utf8).write(to: config)
        let result = try CommandLineTool.run(c.command + ["--config", config.path])
        Self.expectOneErrorLine(result, c.mentions, c.contents)
    }

    /// JSON 1 and 0 are numbers, not true and false (Linux's `is Bool` holds for both).
    @Test func configNumbersOneAndZeroStayNumbers() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.json")
        try Data(#"{"method": "es", "samples": 2, "horizon": 10, "seed": 1, "format": "json"}"#.utf8).write(to: config)
        let result = try CommandLineTool.run(["gradient", "turn-off", "--config", config.path])
        #expect(result.status == 0, "\(result.standardError)")
        let output = try GradientJSON.parse(result.standardOutput)
        #expect(output.stats["samples"] == .number(2), "\(result.standardOutput.prefix(400))")
    }

    // MARK: Messages

    @Test func roberFitSamplesZeroNamesSamples() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(["rober-fit", "--samples", "0", "--out", directory.path])
        Self.expectOneErrorLine(result, ["--samples", "'0'"], "rober-fit --samples 0")
        #expect(!result.standardError.contains("--param"))
    }

    @Test func unwritableCheckpointFailsBeforeTraining() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("file")
        try Data().write(to: file)
        let result = try CommandLineTool.run(
            ["train", "turn-off", "--horizon", "100", "--iterations", "50", "--checkpoint", file.path + "/sub"])
        Self.expectOneErrorLine(result, ["--checkpoint", file.path + "/sub"], "unwritable checkpoint")
        #expect(!result.standardError.contains("iteration"), "no iteration ran")
    }

    /// A fresh `train` into a directory holding an earlier run's checkpoints is refused (its own
    /// would be pruned as older, and a later --resume would continue the earlier run).
    @Test func freshTrainAmongOldCheckpointsIsRefused() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let common = ["train", "turn-off", "--horizon", "20", "--method", "es", "--samples", "2", "--checkpoint", directory.path]
        #expect(try CommandLineTool.run(common + ["--iterations", "4"]).status == 0)
        let again = try CommandLineTool.run(common + ["--iterations", "2"])
        Self.expectOneErrorLine(again, ["--checkpoint", "after iteration 4", "--resume"], "fresh run over checkpoints")
        #expect(try CommandLineTool.run(common + ["--iterations", "6", "--resume"]).status == 0)
    }

    /// Repeated options are merged or refused in linear time (ArgumentParser alone is quadratic).
    @Test func longRepeatedListsParseQuickly() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.json")
        let params = (0..<20000).map { "\"I=\(90 + $0 % 10)\"" }.joined(separator: ",")
        try Data("{\"param\": [\(params)], \"t-end\": 1, \"format\": \"json\"}".utf8).write(to: config)
        let clock = ContinuousClock(), start = clock.now
        let result = try CommandLineTool.simulate(["morris-lecar", "--config", config.path])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(clock.now - start < .seconds(20), "20000 --param entries took \(clock.now - start)")
        let repeated = try CommandLineTool.simulate(["morris-lecar"] + Array(repeating: ["--t-end", "1"], count: 40).flatMap { $0 })
        Self.expectOneErrorLine(repeated, ["--t-end", "more than 16 times"], "40 × --t-end")
    }

    // MARK: Fixed-step plausibility

    static let plausibilityCases: [Case] = [
        Case(arguments: ["hodgkin-huxley", "--integrator", "leapfrog", "--dt", "5"], mentions: ["--dt", "hodgkin-huxley", "smaller step", "dt = 5.0"]),
        Case(arguments: ["hodgkin-huxley", "--dt", "0.5"], mentions: ["--dt", "state m", "[0.0, 1.0]"]),
        Case(arguments: ["morris-lecar", "--preset", "snic", "--dt", "10", "--t-end", "2000"], mentions: ["--dt", "state w"]),
        Case(arguments: ["morris-lecar", "--preset", "explosive", "--dt", "50", "--t-end", "2000"], mentions: ["--dt", "morris-lecar"]),
        Case(arguments: ["ml-network", "--neurons", "4", "--dt", "20"], mentions: ["--dt", "left its range"]),
    ]

    @Test(arguments: plausibilityCases)
    func leapfrogBeyondItsStabilityStops(_ c: Case) throws {
        Self.expectOneErrorLine(try CommandLineTool.simulate(c.arguments), c.mentions, c.testDescription)
    }

    // MARK: Output safety

    @Test func specialFilesAreNeverReplaced() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let link = directory.appendingPathComponent("link.csv").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: directory.appendingPathComponent("target.csv").path)
        for (target, reason) in [("/dev/full", "device"), ("/dev/null", "device"), (fifo, "FIFO"), (directory.path, "directory"), (link, "symbolic link")] {
            let result = try CommandLineTool.simulate(["morris-lecar", "--t-end", "10", "--output", target])
            Self.expectOneErrorLine(result, ["--output", target, reason], target)
        }
        var info = stat()
        #expect(stat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "/dev/full is still a device")
        #expect(lstat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO, "the FIFO is still a FIFO")
        // The plot and the diagnostic result sets are refused likewise.
        let plot = try CommandLineTool.simulate(["morris-lecar", "--t-end", "10", "--plot", link.replacingOccurrences(of: ".csv", with: ".svg"), "--output", fifo])
        #expect(plot.status == 64)
    }

    @Test func failedWriteToStandardOutputIsAnError() throws {
        let process = Process()
        process.executableURL = try CommandLineTool.executable()
        process.arguments = ["simulate", "morris-lecar", "--t-end", "100"]
        process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "not killed by a signal")
        #expect(process.terminationStatus != 0)
        #expect(message.hasPrefix("error: cannot write 'standard output'"), "\(message)")
        #expect(message.split(separator: "\n").count == 1)
    }

    /// compare's files form one set: a manifest names each with its size and checksum, and a
    /// second run into the same directory replaces the whole set.
    @Test func resultSetsCarryAManifest() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var runs: Set<String> = []
        for seed in ["1", "2"] {
            let result = try CommandLineTool.run(
                ["compare", "turn-off", "--horizon", "50", "--methods", "bptt", "--iterations", "2", "--seed", seed, "--out", directory.path])
            #expect(result.status == 0, "\(result.standardError)")
            let manifest = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("manifest.json"))) as? [String: Any])
            runs.insert(try #require(manifest["run"] as? String))
            let files = try #require(manifest["files"] as? [[String: Any]])
            #expect(Set(files.compactMap { $0["name"] as? String }).isSuperset(of: ["curves.csv", "summary.json"]))
            for file in files {
                let data = try Data(contentsOf: directory.appendingPathComponent(file["name"] as! String))
                #expect(file["bytes"] as? Int == data.count)
                #expect(file["fnv1a64"] as? String == Self.fnv1a(data), "\(file["name"]!) matches its manifest entry")
            }
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.contains(".tmp") }
            #expect(leftovers.isEmpty, "\(leftovers)")
        }
        #expect(runs.count == 2)
    }

    /// FNV-1a 64 as 16 hex digits, written out independently of the library.
    static func fnv1a(_ data: Data) -> String {
        var hash: UInt64 = 14_695_981_039_346_656_037
        for byte in data { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
        return String(format: "%016llx", hash)
    }
}
