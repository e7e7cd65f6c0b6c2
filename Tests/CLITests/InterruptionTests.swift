import Foundation
import Testing

/// SIGINT and SIGTERM during `compare`, `train` and `rober-fit`: the current iteration finishes,
/// what is done is written, the status is 128 + the signal, and `--resume` continues to the
/// result an uninterrupted run gives.
@Suite("interruption", .serialized)
struct InterruptionTests {
    /// Starts `neuroode arguments`, sends `signal` once its standard error shows `marker`, and
    /// returns the status, standard error and whether it ended by a signal.
    static func interrupt(
        _ arguments: [String], with signal: Int32, after marker: String
    ) throws -> (status: Int32, standardError: String, bySignal: Bool) {
        let scratch = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errURL = scratch.appendingPathComponent("stderr")
        try Data().write(to: errURL)
        let process = Process()
        process.executableURL = try CommandLineTool.executable()
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline {
            if (try? String(contentsOf: errURL, encoding: .utf8))?.contains(marker) == true { break }
            usleep(20_000)
        }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: errURL, encoding: .utf8), process.terminationReason == .uncaughtSignal)
    }

    /// The columns of curves.csv that do not depend on timing.
    static func deterministic(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return [0, 1, 2, 4, 5, 6, 7].map { String(fields[$0]) }.joined(separator: ",")
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func compareStopsCleanlyAndResumesToTheUninterruptedResult(signal: Int32) throws {
        let base = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: base) }
        let split = base.appendingPathComponent("split").path, whole = base.appendingPathComponent("whole").path
        let common = ["compare", "turn-off", "--horizon", "100", "--samples", "4", "--methods", "bptt,es", "--iterations", "150",
                      "--runs", "2", "--checkpoint-every", "4"]
        let stopped = try Self.interrupt(common + ["--out", split], with: signal, after: "[es run 1/2] iteration 1/")
        #expect(!stopped.bySignal)
        #expect(stopped.status == 128 + signal, "\(stopped.standardError)")
        let last = stopped.standardError.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("error: interrupted by \(signal == SIGINT ? "SIGINT" : "SIGTERM")"), "\(last)")
        // The finished method and the partial run are on disk, as one manifest-described set.
        let partial = try Self.deterministic(split + "/curves.csv")
        #expect(partial.count > 1 + 2 * 150 && partial.count < 1 + 4 * 150, "\(partial.count) rows")
        #expect(FileManager.default.fileExists(atPath: split + "/manifest.json"))

        let resumed = try CommandLineTool.run(common + ["--out", split, "--resume"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(resumed.standardError.contains("[bptt run 1/2] resuming from"), "finished runs are kept")
        let uninterrupted = try CommandLineTool.run(common + ["--out", whole])
        #expect(uninterrupted.status == 0)
        #expect(try Self.deterministic(split + "/curves.csv") == Self.deterministic(whole + "/curves.csv"))
    }

    @Test func trainStopsWithACheckpointAndResumes() throws {
        let base = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: base) }
        let split = base.appendingPathComponent("split").path, whole = base.appendingPathComponent("whole").path
        let common = ["train", "turn-off", "--horizon", "50", "--method", "es", "--samples", "4", "--iterations", "400", "--checkpoint-every", "7"]
        let stopped = try Self.interrupt(common + ["--checkpoint", split], with: SIGTERM, after: "iteration 1/400")
        #expect(stopped.status == 143, "\(stopped.standardError)")
        #expect(stopped.standardError.contains("continue with --resume"))
        #expect(FileManager.default.fileExists(atPath: split + "/curve.csv"))
        let resumed = try CommandLineTool.run(common + ["--checkpoint", split, "--resume"])
        #expect(resumed.status == 0, "\(resumed.standardError)")
        #expect(try CommandLineTool.run(common + ["--checkpoint", whole]).status == 0)
        #expect(try Self.deterministic(split + "/curve.csv") == Self.deterministic(whole + "/curve.csv"))
    }

    @Test func roberFitWritesTheRunsDoneWhenInterrupted() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stopped = try Self.interrupt(
            ["rober-fit", "--methods", "es", "--samples", "2", "--iterations", "400", "--out", directory.path],
            with: SIGINT, after: "iteration 1/")
        #expect(stopped.status == 130, "\(stopped.standardError)")
        for name in ["curves.csv", "summary.json", "manifest.json"] {
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path), "\(name)")
        }
    }

    /// Resuming under another learning rate or weight decay names the option and both values.
    @Test func resumeWithOtherHyperparametersIsRefused() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let common = ["train", "turn-off", "--horizon", "50", "--method", "es", "--samples", "4", "--checkpoint", directory.path]
        #expect(try CommandLineTool.run(common + ["--iterations", "2", "--optimizer", "adamw", "--weight-decay", "0.01"]).status == 0)
        for (option, value, mentions) in [
            ("--learning-rate", "0.05", ["--learning-rate", "learningRate is 0.1, this run has 0.05"]),
            ("--weight-decay", "0.2", ["--weight-decay", "weightDecay is 0.01, this run has 0.2"]),
        ] {
            var arguments = common + ["--iterations", "4", "--resume", "--optimizer", "adamw"]
            arguments += option == "--weight-decay" ? [option, value] : [option, value, "--weight-decay", "0.01"]
            let result = try CommandLineTool.run(arguments)
            #expect(result.status == 1)
            #expect(result.errorLines.count == 1, "\(result.standardError)")
            for text in mentions { #expect(result.standardError.contains(text), "\(result.standardError)") }
        }
    }
}
