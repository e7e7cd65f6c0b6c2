import Foundation

/// Runs the built `neuroode` executable, as a user would, and captures what it prints.
///
/// The executable is found next to the running test bundle (SwiftPM builds every product of the
/// package before `swift test` runs the tests); `NEUROODE_EXECUTABLE` overrides the location.
enum CommandLineTool {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
        /// Whether the process ended by a signal (then `status` is the signal's number).
        var killedBySignal = false
        /// Whether it was killed for running past the time limit.
        var timedOut = false

        /// The standard-error text without its trailing newline, split into non-empty lines.
        var errorLines: [String] {
            standardError.split(whereSeparator: \.isNewline).map(String.init)
        }
    }

    struct NotFound: Error, CustomStringConvertible {
        let searched: [String]
        var description: String { "neuroode executable not found; looked at \(searched.joined(separator: ", "))" }
    }

    static func executable() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["NEUROODE_EXECUTABLE"] {
            candidates.append(URL(fileURLWithPath: path))
        }
        let runner = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var directory = runner.deletingLastPathComponent()
        // On Darwin the runner sits inside Foo.xctest/Contents/MacOS; climb to the build folder.
        for _ in 0..<4 {
            candidates.append(directory.appendingPathComponent("neuroode"))
            directory = directory.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw NotFound(searched: candidates.map(\.path))
        }
        return found
    }

    /// Runs `neuroode arguments…`, with output going to temporary files so large outputs cannot
    /// fill a pipe and block the child. A `launcher` (`mpirun -np 2`, say) runs it instead, with
    /// the executable's path after its arguments; `environment` adds variables.
    static func run(
        _ arguments: [String], timeLimit: Double? = nil, launcher: [String] = [], environment: [String: String] = [:]
    ) throws -> Result {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        if let program = launcher.first {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = launcher.dropFirst() + [try executable().path] + arguments
        } else {
            process.executableURL = try executable()
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = out
        process.standardError = err
        try process.run()
        var timedOut = false
        if let timeLimit {
            let deadline = Date().addingTimeInterval(timeLimit)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
            killedBySignal: process.terminationReason == .uncaughtSignal, timedOut: timedOut)
    }

    /// `neuroode simulate arguments…`.
    static func simulate(_ arguments: [String]) throws -> Result {
        try run(["simulate"] + arguments)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("neuroode-cli-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A trajectory read back from `simulate`'s CSV or JSON output.
struct Trajectory {
    var header: [String] = []
    var times: [Double] = []
    var states: [[Double]] = []

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses CSV: a header line, then rows of numbers with as many fields as the header.
    init(csv text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.last == "" else { throw Malformed(description: "CSV does not end with a newline") }
        guard let first = lines.first else { throw Malformed(description: "empty CSV") }
        header = first.split(separator: ",").map(String.init)
        for line in lines.dropFirst().dropLast() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw Malformed(description: "row '\(line)' has \(fields.count) fields, header has \(header.count)")
            }
            let values = try fields.map { field -> Double in
                guard let value = Double(field) else { throw Malformed(description: "'\(field)' is not a number") }
                return value
            }
            times.append(values[0])
            states.append(Array(values.dropFirst()))
        }
    }

    init(json output: SimulationJSON) {
        header = ["t"] + output.stateNames
        times = output.t
        states = output.y
    }

    func component(_ j: Int) -> [Double] { states.map { $0[j] } }
}

/// The JSON object `simulate --format json` writes.
///
/// Decoded with JSONDecoder, which parses numbers exactly; Foundation's JSONSerialization on
/// Linux turns long decimals into NSDecimalNumber and loses the last bits converting to Double.
struct SimulationJSON: Decodable {
    let model: String
    let integrator: String
    let stateNames: [String]
    let t: [Double]
    let y: [[Double]]
    let spikes: [[Double]]?
    let stats: [String: Double]

    static func parse(_ text: String) throws -> SimulationJSON {
        try JSONDecoder().decode(SimulationJSON.self, from: Data(text.utf8))
    }
}
