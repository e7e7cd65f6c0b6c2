import Foundation
import Testing

/// Random option sets through every command at tiny sizes (RELIABILITY.md "Property test"): each
/// run must succeed or fail with exactly one typed `error:` line (status 1 or 64) — never a
/// signal, never a hang past ``timeLimit``, never a non-finite number in a successful output.
///
/// The generator is seeded, so a failure names a reproducible command line. Values are drawn
/// from pools that mix good values with bad ones (negative, zero, NaN, ±∞, huge, malformed);
/// the tiny base sizes keep every accepted run short.
@Suite("random options property")
struct RandomOptionPropertyTests {
    /// Runs per command; `NEUROODE_PROPERTY_RUNS` raises it for a longer sweep.
    static let runsPerCommand = ProcessInfo.processInfo.environment["NEUROODE_PROPERTY_RUNS"].flatMap { Int($0) } ?? 40
    /// `NEUROODE_PROPERTY_SEED` draws other option sets than the default sweep.
    static let seed = ProcessInfo.processInfo.environment["NEUROODE_PROPERTY_SEED"].flatMap { UInt64($0) } ?? 0xC0FFEE
    /// A run slower than this is a hang.
    static let timeLimit: Double = 60

    /// SplitMix64: a small seeded generator, independent of the library's.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
    }

    static let numbers = ["-1", "0", "nan", "inf", "-inf", "1e300", "-1e300", "abc", "", "1e-300"]
    static let counts = ["-5", "0", "1", "2", "3", "1000000000000", "2.5", "x"]

    /// Option pools per command: the option and the values it may get.
    static let pools: [String: [(String, [String])]] = [
        "simulate": [
            ("--t-end", ["1", "5", "20"] + numbers), ("--dt", ["0.01", "0.1", "0.5", "5", "20"] + numbers),
            ("--integrator", ["leapfrog", "leapfrog-paper", "dopri5", "cvode-bdf", "cvode-adams", "rk4"]),
            ("--param", ["I=90", "C=-1", "phi=0", "gK=inf", "nope=1", "I", "tau=5"]), ("--y0", ["-40,0.1", "nan", "1,2,3", ""]),
            ("--times", ["0,1", "1,0", "0,nan", "0,0.5,1"]), ("--rtol", ["1e-6", "0", "-1", "nan"]), ("--atol", ["1e-9", "-1", "inf"]),
            ("--max-steps", counts), ("--spikes", ["0", "-20", "nan"]), ("--neurons", counts), ("--batch", counts),
            ("--seed", ["-1", "0", "7", "x"]), ("--format", ["json", "csv", "xml"]), ("--preset", ["hopf", "snic", "turbo"]),
            ("--max-memory", ["1K", "1G", "lots", "0"]), ("--threads", ["1", "2", "0", "-3"]),
        ],
        "gradient": [
            ("--method", ["bptt", "bptt-checkpointed", "adjoint-full", "adjoint-partial", "es", "fd", "magic"]),
            ("--horizon", ["5", "20"] + numbers), ("--dt", ["0.1", "0.5", "20"] + numbers),
            ("--integrator", ["leapfrog", "dopri5", "cvode-bdf", "rk4"]), ("--samples", ["2", "4", "3"] + counts),
            ("--sigma", ["0.5"] + numbers), ("--seed", ["-1", "3"]), ("--rtol", ["1e-6", "2", "nan"]), ("--atol", ["1e-8", "-1"]),
            ("--hidden", counts), ("--windows", counts), ("--window-length", counts), ("--neurons", counts), ("--batch", counts),
            ("--checkpoint-interval", counts), ("--memory-budget", counts), ("--fd-step", ["1e-5"] + numbers),
            ("--variant", ["mirrored", "plain", "odd"]), ("--param", ["I=95", "I=nan", "zz=1"]), ("--format", ["json", "text"]),
            ("--threads", ["1", "3", "0"]),
        ],
        "compare": [
            ("--methods", ["bptt", "es", "bptt,es", "fd", "bptt,bptt", "nope", ""]), ("--iterations", ["1", "2"] + counts),
            ("--runs", ["1", "2", "-1", "0"]), ("--seed", ["-1", "4"]), ("--optimizer", ["adam", "adamw", "sgd", "rmsprop", "lbfgs"]),
            ("--learning-rate", ["0.1"] + numbers), ("--weight-decay", ["0.01"] + numbers), ("--clip", ["0", "1"] + numbers),
            ("--samples", ["2", "4", "3", "-2"]), ("--sigma", ["1"] + numbers), ("--eval-every", counts),
            ("--horizon", ["5", "20"] + numbers), ("--checkpoint-every", counts), ("--threads", ["1", "2", "0"]),
            ("--max-memory", ["1K", "8G", "?"]),
        ],
        "train": [
            ("--method", ["bptt", "es", "adjoint-full", "fd", "nope"]), ("--iterations", ["1", "2"] + counts),
            ("--seed", ["-1", "2"]), ("--learning-rate", ["0.1"] + numbers), ("--optimizer", ["adam", "adamw", "sgd"]),
            ("--weight-decay", ["0.1", "-1"]), ("--checkpoint-every", counts), ("--samples", ["2", "4", "5"]),
            ("--horizon", ["5", "20"] + numbers), ("--clip", ["1", "-1"]), ("--threads", ["1", "2"]),
        ],
        "rober-fit": [
            ("--methods", ["es", "adjoint-partial", "fd", "es,es", "bptt"]), ("--scaling", ["on", "off", "on,off", "sideways"]),
            ("--iterations", ["1"] + counts), ("--samples", ["2", "0", "-2", "3"]), ("--sigma", ["0.01"] + numbers),
            ("--learning-rate", ["0.005", "0", "nan"]), ("--seed", ["-1", "1"]), ("--unscaled", []),
        ],
        "landscape": [
            ("--from", ["90"] + numbers), ("--to", ["110"] + numbers), ("--points", ["2", "3"] + counts),
            ("--horizon", ["5", "20"] + numbers), ("--dt", ["0.1", "20"] + numbers), ("--sigma", ["1"] + numbers),
            ("--nodes", ["1", "4", "0", "1000"]), ("--methods", ["es", "bptt", "fd", "adjoint-full", "nope"]),
            ("--samples", ["2", "3", "-2"]), ("--seed", ["-1", "2"]), ("--threads", ["1", "0", "-1"]),
        ],
        "reversibility": [
            ("--t-end", ["1", "5"] + numbers), ("--points", ["2", "10"] + counts), ("--integrator", ["dopri5", "cvode-bdf", "leapfrog", "x"]),
            ("--rtol", ["1e-6"] + numbers), ("--atol", ["1e-9"] + numbers), ("--threshold", ["1"] + numbers),
        ],
        "drift": [
            ("--horizon", ["5", "20"] + numbers), ("--current", ["90"] + numbers), ("--integrator", ["dopri5", "leapfrog", "x"]),
            ("--dt", ["0.1", "20"] + numbers), ("--rtol", ["1e-6", "1e-20"] + numbers), ("--atol", ["1e-9"] + numbers),
            ("--points", ["2", "10"] + counts), ("--threshold", ["1"] + numbers),
        ],
        "bench": [
            ("--neurons", counts), ("--batch", counts), ("--steps", ["5", "10"] + counts), ("--repeats", ["1", "0", "-1"]),
            ("--threads", ["1", "2", "0"]), ("--dt", ["0.1"] + numbers), ("--inputs", ["2", "0"]), ("--seed", ["-1", "3"]),
        ],
    ]

    /// Tiny base command lines: every accepted run finishes in a second or two.
    static func base(_ command: String, _ g: inout Generator, _ directory: String) -> [String] {
        switch command {
        case "simulate":
            let model = g.pick(["morris-lecar", "hodgkin-huxley", "lif", "rober", "ml-network"])
            return ["simulate", model, "--t-end", "10"] + (model == "ml-network" ? ["--neurons", "3"] : [])
        case "gradient":
            switch g.pick(["turn-off", "spiral", "rober-integral", "evidence"]) {
            case "spiral": return ["gradient", "spiral", "--hidden", "3", "--windows", "2", "--window-length", "3"]
            case "rober-integral": return ["gradient", "rober-integral", "--horizon", "1"]
            case "evidence": return ["gradient", "evidence", "--neurons", "2", "--batch", "2", "--dt", "0.5"]
            default: return ["gradient", "turn-off", "--horizon", "10"]
            }
        case "compare":
            return ["compare", "turn-off", "--horizon", "10", "--iterations", "1", "--samples", "2", "--out", directory]
        case "train":
            return ["train", "turn-off", "--method", "es", "--horizon", "10", "--iterations", "1", "--samples", "2", "--checkpoint", directory]
        case "landscape":
            return ["landscape", "turn-off", "--horizon", "10", "--points", "2", "--nodes", "2", "--methods", "es,bptt", "--samples", "2",
                    "--out", directory]
        case "reversibility":
            return ["reversibility", g.pick(["morris-lecar", "hodgkin-huxley", "rober", "rotation"]), "--t-end", "2", "--points", "5",
                    "--out", directory]
        case "drift":
            return ["drift", "--horizon", "10", "--points", "5", "--out", directory]
        case "bench":
            switch g.pick(["simulate", "es", "bptt", "list"]) {
            case "simulate":
                return ["bench", "simulate", "--neurons", "4", "--batch", "2", "--steps", "10", "--repeats", "1",
                        "--precision", g.pick(["f32", "f64"])]
            case "es":
                return ["bench", "es", "--neurons", "3", "--batch", "2", "--inputs", "2", "--steps", "5", "--samples", "2",
                        "--precision", g.pick(["f32", "f64"])]
            case "bptt":
                return ["bench", "bptt", "--neurons", "3", "--batch", "2", "--inputs", "2", "--steps", "5"]
            default: return ["list"]
            }
        default:
            return ["rober-fit", "--iterations", "1", "--samples", "2", "--methods", "es", "--scaling", "on", "--out", directory]
        }
    }

    /// A word that is a non-finite number (`nan`, `inf`, `-inf`, `infinity`), as printed by Swift or C.
    static func containsNonFiniteNumber(_ text: String) -> Bool {
        text.range(of: #"(?<![A-Za-z_])[-+]?(nan|inf|infinity)(?![A-Za-z_])"#, options: [.regularExpression, .caseInsensitive]) != nil
    }

    struct Outcome { var successes = 0, typedErrors = 0 }

    @Test(arguments: ["simulate", "gradient", "compare", "train", "rober-fit", "landscape", "reversibility", "drift", "bench"])
    func randomOptionSetsSucceedOrFailWithOneTypedLine(command: String) throws {
        var g = Generator(state: Self.seed ^ UInt64(command.utf8.reduce(0) { $0 &* 31 &+ Int($1) } & 0xFFFF))
        var outcome = Outcome()
        for run in 0..<Self.runsPerCommand {
            let directory = try CommandLineTool.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            var arguments = Self.base(command, &g, directory.path)
            let pool = Self.pools[command]!
            for _ in 0..<Int(g.next() % 3) {
                let (option, values) = g.pick(pool)
                if values.isEmpty { arguments.append(option) } else { arguments += [option, g.pick(values)] }
            }
            let line = arguments.joined(separator: " ")
            let result = try CommandLineTool.run(arguments, timeLimit: Self.timeLimit)
            #expect(!result.timedOut, "run \(run) hung past \(Self.timeLimit) s: \(line)")
            #expect(!result.killedBySignal, "run \(run) died by a signal (status \(result.status)): \(line)")
            if result.status == 0 {
                outcome.successes += 1
                if command == "simulate" || command == "gradient" {
                    #expect(!Self.containsNonFiniteNumber(result.standardOutput), "run \(run) printed a non-finite number: \(line)")
                }
            } else {
                outcome.typedErrors += 1
                #expect(result.status == 1 || result.status == 64, "run \(run) status \(result.status): \(line)\n\(result.standardError)")
                // Progress lines may precede it; exactly one line is the error, and it is the last.
                let errors = result.errorLines.filter { $0.hasPrefix("error: ") }
                #expect(errors.count == 1 && result.errorLines.last == errors.first,
                        "run \(run) did not end with one error line: \(line)\n\(result.standardError)")
            }
        }
        // The counts RELIABILITY.md reports: both outcomes must occur, or the pools test nothing.
        print("property \(command): \(Self.runsPerCommand) runs, \(outcome.successes) succeeded, \(outcome.typedErrors) typed errors")
        #expect(outcome.successes > 0 && outcome.typedErrors > 0, "\(command): \(outcome)")
    }
}
