import Foundation
import Testing

/// The command line's common options: `--version`, and `--config` in every command's `--help`
/// (the file itself is decoded in-process by NeuroODEStudiesTests' configuration tests).
@Suite("version and config option")
struct ConfigAndVersionTests {
    /// Every command, `bench`'s included.
    static let commands: [[String]] = [
        ["simulate"], ["gradient"], ["compare"], ["train"], ["list"], ["landscape"], ["reversibility"], ["drift"], ["rober-fit"],
        ["bench", "simulate"], ["bench", "es"], ["bench", "bptt"], ["bench", "spiral"], ["bench", "rober"], ["bench", "gradients"],
    ]

    @Test func versionIsPrintedWithStatusZero() throws {
        let result = try CommandLineTool.run(["--version"])
        #expect(result.status == 0)
        let version = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.split(separator: ".").count == 3 && version.split(separator: ".").allSatisfy { Int($0) != nil }, "\(version)")
    }

    @Test(arguments: commands)
    func everyHelpShowsConfig(_ command: [String]) throws {
        let result = try CommandLineTool.run(command + ["--help"])
        #expect(result.status == 0, "\(command): \(result.standardError)")
        #expect(result.standardOutput.contains("--config <file.json>"), "\(command)")
    }

    /// A config file's key the command does not have is named, whichever command reads it.
    @Test(arguments: [["simulate", "morris-lecar"], ["gradient", "turn-off"], ["train", "turn-off"], ["bench", "es"]])
    func unknownKeyIsNamed(_ command: [String]) throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("c.json")
        try Data(#"{"colour": "red"}"#.utf8).write(to: config)
        let result = try CommandLineTool.run(command + ["--config", config.path])
        #expect(result.status == 64, "\(command): \(result.standardError)")
        #expect(result.errorLines == ["error: invalid value '\(config.path)' for --config: unknown key 'colour' (not an option of this command; see --help)"])
    }
}
