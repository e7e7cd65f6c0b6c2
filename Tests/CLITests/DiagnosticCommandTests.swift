import Foundation
import Testing

/// `neuroode landscape`, `reversibility` and `drift` as a user runs them, at tiny sizes. The
/// references are other commands (`gradient` computes the same losses and gradients by its own
/// path) and known facts (a rotation is reversible, Morris–Lecar is not).
@Suite("diagnostic commands")
struct DiagnosticCommandTests {
    /// Runs a command with `--out` in a fresh directory, returning the result and the directory.
    static func run(_ arguments: [String]) throws -> (result: CommandLineTool.Result, directory: URL) {
        let directory = try CommandLineTool.temporaryDirectory()
        return (try CommandLineTool.run(arguments + ["--out", directory.path]), directory)
    }

    static func table(_ directory: URL, _ name: String) throws -> Trajectory {
        try Trajectory(csv: String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8))
    }

    static func column(_ table: Trajectory, _ name: String) throws -> [Double] {
        let index = try #require(table.header.firstIndex(of: name), "no column \(name) in \(table.header)")
        return index == 0 ? table.times : table.component(index - 1)
    }

    /// The loss and BPTT columns equal what `gradient` reports at the same I; the files exist and
    /// their paths are printed.
    @Test func landscapeAgreesWithTheGradientCommand() throws {
        let (result, directory) = try Self.run(
            ["landscape", "turn-off", "--from", "95", "--to", "100", "--points", "3", "--horizon", "100", "--nodes", "6",
             "--methods", "bptt,es", "--samples", "4"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(result.status == 0, "\(result.standardError)")
        for name in ["landscape.csv", "landscape-loss.svg", "landscape-gradient.svg"] {
            #expect(result.standardOutput.contains("wrote \(directory.appendingPathComponent(name).path)"))
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path))
        }
        let svg = try String(contentsOf: directory.appendingPathComponent("landscape-loss.svg"), encoding: .utf8)
        #expect(svg.hasPrefix("<?xml") && svg.contains("</svg>"))
        #expect(result.standardError.contains("100 %"), "progress on standard error")
        let table = try Self.table(directory, "landscape.csv")
        #expect(table.header == ["I", "loss", "smoothed_loss", "smoothed_gradient", "gradient_bptt", "gradient_es"])
        #expect(table.times == [95, 97.5, 100])
        let losses = try Self.column(table, "loss"), bptt = try Self.column(table, "gradient_bptt")
        let reference = try GradientJSON.run(["turn-off", "--horizon", "100", "--method", "bptt", "--param", "I=97.5"])
        #expect(abs(losses[1] - reference.loss) <= 1e-12 * reference.loss)
        let expected = try #require(reference.gradient["I"])
        #expect(abs(bptt[1] - expected) <= 1e-12 * abs(expected))
        #expect(try Self.column(table, "smoothed_loss").allSatisfy { $0.isFinite && $0 > 0 })
    }

    /// Options from a config file, a flag overriding one of them.
    @Test func landscapeReadsAConfigFile() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"points": 4, "horizon": 50, "nodes": 4, "methods": ["fd"], "from": 90, "to": 99}"#.utf8).write(to: config)
        let (result, out) = try Self.run(["landscape", "turn-off", "--config", config.path, "--points", "2"])
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(result.status == 0, "\(result.standardError)")
        let table = try Self.table(out, "landscape.csv")
        #expect(table.times == [90, 99])
        #expect(table.header.last == "gradient_fd")
    }

    /// Bad values and config mistakes: status 64, one line naming the value.
    @Test(arguments: [
        (["--points", "1"], "'1'"),
        (["--sigma", "-1"], "'-1.0'"),
        (["--nodes", "0"], "'0'"),
        (["--methods", "bptt,magic"], "'magic'"),
        (["--from", "120", "--to", "80"], "120.0...80.0"),
        (["--horizon", "0"], "'0.0'"),
    ])
    func landscapeRejectsBadValues(_ options: [String], _ named: String) throws {
        let (result, directory) = try Self.run(["landscape", "turn-off"] + options)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(result.status == 64, "\(options): \(result.standardError)")
        #expect(result.errorLines.count == 1 && result.errorLines[0].hasPrefix("error: ") && result.errorLines[0].contains(named),
                "\(result.standardError)")
    }

    @Test(arguments: [
        (#"{"points": 3, "colour": "blue"}"#, "'colour'"),
        (#"{"points": "many"}"#, "'many'"),
        (#"{"points": 2.5}"#, "'2.5'"),
        (#"[1, 2]"#, "JSON object"),
    ])
    func configMistakesAreErrors(_ text: String, _ named: String) throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.json")
        try Data(text.utf8).write(to: config)
        for command in [["landscape", "turn-off"], ["reversibility", "rotation"], ["drift"]] {
            let result = try CommandLineTool.run(command + ["--config", config.path, "--out", directory.path])
            #expect(result.status == 64, "\(command) \(text): \(result.standardError)")
            #expect(result.errorLines.count == 1 && result.errorLines[0].contains(named), "\(result.standardError)")
        }
        let missing = try CommandLineTool.run(["drift", "--config", directory.appendingPathComponent("absent.json").path])
        #expect(missing.status == 64 && missing.errorLines.count == 1 && missing.standardError.contains("absent.json"))
    }

    /// The rotation comes back to its start; Morris–Lecar, 200 ms back, does not.
    @Test func reversibilitySeparatesReversibleFromIrreversible() throws {
        let (rotation, rotationOut) = try Self.run(["reversibility", "rotation", "--t-end", "20", "--points", "20", "--rtol", "1e-10", "--atol", "1e-12"])
        defer { try? FileManager.default.removeItem(at: rotationOut) }
        #expect(rotation.status == 0, "\(rotation.standardError)")
        let rotationTable = try Self.table(rotationOut, "reversibility.csv")
        #expect(rotationTable.times.count == 22 && rotationTable.times.first == 20 && rotationTable.times.last == 0)
        #expect(try Self.column(rotationTable, "error").allSatisfy { $0 < 1e-7 })
        let forward = try Self.column(rotationTable, "forward_y1")
        for (t, y) in zip(rotationTable.times, forward) { #expect(abs(y - cos(t)) < 1e-8, "t = \(t)") }

        let (neuron, neuronOut) = try Self.run(["reversibility", "morris-lecar", "--t-end", "200", "--points", "40", "--rtol", "1e-10", "--atol", "1e-12"])
        defer { try? FileManager.default.removeItem(at: neuronOut) }
        #expect(neuron.status == 0, "\(neuron.standardError)")
        let errors = try Self.column(Self.table(neuronOut, "reversibility.csv"), "error")
        #expect(errors.last! > 0.1 && errors.last! > 1e6 * errors[1], "\(errors)")

        let (rober, roberOut) = try Self.run(["reversibility", "rober", "--points", "10"])
        defer { try? FileManager.default.removeItem(at: roberOut) }
        #expect(rober.status == 0, "\(rober.standardError)")
        #expect(rober.standardOutput.contains("backward solve failed") || rober.standardOutput.contains("error exceeds"), "\(rober.standardOutput)")

        let unknown = try CommandLineTool.run(["reversibility", "lorenz"])
        #expect(unknown.status == 64 && unknown.errorLines.count == 1 && unknown.standardError.contains("'lorenz'"))
    }

    /// The partial adjoint's running gradient ends at the gradient `gradient` reports for the same
    /// task and tolerances; over 100 ms (one spike) the backsolve still tracks, so both columns agree.
    @Test func driftAgreesWithTheGradientCommand() throws {
        let (result, directory) = try Self.run(["drift", "--horizon", "100", "--points", "20"])
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(result.status == 0, "\(result.standardError)")
        let table = try Self.table(directory, "drift.csv")
        #expect(table.header == ["t", "backward_elapsed", "drift", "running_gradient_full", "running_gradient_partial"])
        #expect(table.times.count == 20 && table.times.last == 0)
        let partial = try Self.column(table, "running_gradient_partial"), full = try Self.column(table, "running_gradient_full")
        let reference = try GradientJSON.run(["turn-off", "--horizon", "100", "--integrator", "dopri5", "--method", "adjoint-partial"])
        let expected = try #require(reference.gradient["I"])
        #expect(abs(partial.last! - expected) <= 1e-6 * abs(expected), "\(partial.last!) vs \(expected)")
        #expect(abs(full.last! - expected) <= 1e-4 * abs(expected), "\(full.last!) vs \(expected)")
        #expect(try Self.column(table, "drift").allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(result.standardOutput.contains("full adjoint within its drift tolerance"), "\(result.standardOutput)")

        // Over 200 ms the backsolve loses the cycle but stays finite: the output flags it.
        let (long, longDirectory) = try Self.run(["drift", "--horizon", "200", "--points", "20"])
        defer { try? FileManager.default.removeItem(at: longDirectory) }
        #expect(long.status == 0 && long.standardOutput.contains("DIVERGED: relative drift"), "\(long.standardOutput)")

        let bad = try CommandLineTool.run(["drift", "--dt", "0.1"])
        #expect(bad.status == 64 && bad.errorLines.count == 1 && bad.standardError.contains("--dt"))
    }
}
