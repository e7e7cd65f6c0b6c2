import Foundation

/// Where a result came from: the package's version, the command line exactly as typed, the
/// arguments it was parsed from (a `--config` file's entries included) and the resolved settings
/// of the run. Every result directory records it in its `manifest.json` (``DiagnosticFiles``), so
/// each CSV and SVG there is covered; `compare`'s and `rober-fit`'s `summary.json` carry it too
/// (README "Outputs").
public struct Provenance: Encodable, Sendable {
    public var version = NeuroODEVersion.string
    /// The command line as typed, the program's name first.
    public var commandLine: [String]
    /// The arguments parsed: `commandLine` with a `--config` file's entries in place.
    public var arguments: [String]
    /// The run's resolved settings (parameters, integrator, step or tolerances, seed, precision…),
    /// defaults included; empty where the result files hold them (`summary.json`).
    public var configuration: [String: JSONValue]

    public init(commandLine: [String], arguments: [String], configuration: [String: JSONValue] = [:]) {
        self.commandLine = commandLine
        self.arguments = arguments
        self.configuration = configuration
    }

    /// This process's invocation with `configuration`; the executable sets the command line once
    /// (``recordInvocation(commandLine:arguments:)``), a program linking the library may leave it
    /// empty.
    public static func current(configuration: [String: JSONValue] = [:]) -> Provenance {
        invocationLock.lock()
        defer { invocationLock.unlock() }
        return Provenance(commandLine: invocation.commandLine, arguments: invocation.arguments, configuration: configuration)
    }

    /// Records the command line as typed and as parsed, for every result the process writes.
    public static func recordInvocation(commandLine: [String], arguments: [String]) {
        invocationLock.lock()
        defer { invocationLock.unlock() }
        invocation = (commandLine, arguments)
    }

    private static let invocationLock = NSLock()
    nonisolated(unsafe) private static var invocation: (commandLine: [String], arguments: [String]) = ([], [])

    /// The encoder of every JSON result: sorted keys, indented, numbers in their shortest
    /// round-trip form (a read-back Double equals the one written), non-finite values as the
    /// strings "nan", "inf", "-inf".
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    /// `value` as JSON text by ``encoder``, with a final newline.
    public static func json(_ value: some Encodable) -> String {
        // Encoding plain values with a non-conforming-float strategy cannot fail.
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case let .number(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .unsigned(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .boolean(value): try container.encode(value)
        case let .rows(rows): try container.encode(rows)
        }
    }
}
