import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode bench gradients`: memory and time of every gradient method on the turn-off task as
/// the horizon grows, printed as a table (and written as JSON with --output).
struct BenchGradients: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradients",
        abstract: "Memory and time of BPTT, checkpointed BPTT, full and partial adjoint and ES on turn-off, by horizon.",
        discussion: """
            Turn-off task (Morris–Lecar hopf, I = 100, leapfrog Δt = 0.1 ms). Stored: bytes a method keeps \
            for its backward pass. Peak: resident memory the evaluation added, measured by the kernel \
            (VmHWM after resetting it through /proc/self/clear_refs). Adjoints integrate backward with \
            dopri5 (rtol 1e-8, atol 1e-10); checkpointed BPTT stores every ⌈√N⌉-th state.
            """)

    @Option(help: ArgumentHelp("Horizons in ms, comma-separated.", valueName: "list"))
    var horizons = "100,300,1000,3000,10000"
    @Option(help: "ES samples (mirrored).") var samples = 100
    @Option(help: "ES σ in µA/cm².") var sigma = 1.0
    @Option(help: "ES seed.") var seed: UInt64 = 0
    @Option(help: ArgumentHelp("Also write the rows as JSON here.", valueName: "file.json"))
    var output: String?

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        let spans = try ArgumentList.numbers(horizons, option: "--horizons")
        for span in spans where !(span > 0) {
            throw CommandLineError.invalidValue(option: "--horizons", value: "\(span)", reason: "horizons must be positive")
        }
        // Step counts and the stored states before any work (README "Resource limits").
        var estimate = MemoryEstimate()
        for span in spans {
            do {
                _ = try FixedStepCount.covering(span: span, stepSize: 0.1)
            } catch {
                throw CommandLineError.invalidValue(option: "--horizons", value: "\(span)", reason: "\(error)")
            }
            RunEstimate.turnOff(&estimate, horizon: span, stepSize: 0.1, kinds: [.bptt], option: "--horizons")
        }
        try estimate.check(against: .machine, remedy: "make it smaller")
        if let output { try OutputFile.check(output, option: "--output") }
        let methods = TurnOffScaling.methods(samples: samples, sigma: sigma, seed: seed)
        try EvolutionStrategy(samples: samples, sigma: sigma, seed: seed).validate()
        print("turn-off, leapfrog dt = 0.1 ms, I = 100; ES: \(samples) mirrored samples, sigma = \(sigma), seed \(seed)")
        print(Self.header)
        let rows = try TurnOffScaling.run(horizons: spans, methods: methods) { row in
            print(Self.format(row))
        }
        if let output {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data: Data
            do {
                data = try encoder.encode(rows)
            } catch {
                throw CommandLineError.cannotWrite(path: output, reason: "\(error.localizedDescription)")
            }
            try OutputFile.write(String(decoding: data, as: UTF8.self), to: output)
        }
    }

    static let header = [
        "method".padding(toLength: 18, withPad: " ", startingAt: 0), "horizon ms".leftPad(10), "steps".leftPad(7),
        "loss".leftPad(11), "dL/dI".leftPad(12), "stored".leftPad(10), "peak".leftPad(10), "seconds".leftPad(9),
    ].joined(separator: " ")

    static func format(_ row: TurnOffScaling.Row) -> String {
        func bytes(_ value: Int?) -> String {
            guard let value else { return "n/a" }
            return value >= 1 << 20 ? String(format: "%.1f MB", Double(value) / 1_048_576) : String(format: "%.1f kB", Double(value) / 1024)
        }
        let cells = [
            row.method.padding(toLength: 18, withPad: " ", startingAt: 0),
            String(format: "%.0f", row.horizon).leftPad(10), "\(row.steps)".leftPad(7),
            (row.loss.map { String(format: "%.4g", $0) } ?? "failed").leftPad(11),
            (row.gradient.map { String(format: "%.4g", $0) } ?? "-").leftPad(12),
            bytes(row.bytesStored).leftPad(10), bytes(row.peakBytes).leftPad(10),
            (row.seconds.map { String(format: "%.3f", $0) } ?? "-").leftPad(9),
        ]
        let line = cells.joined(separator: " ")
        return row.failure.map { "\(line)  (\($0))" } ?? line
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
