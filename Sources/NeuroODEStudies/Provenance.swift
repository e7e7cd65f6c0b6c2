import Foundation

/// Where a result came from: the package's version, the command line exactly as typed, the
/// arguments it was parsed from (a `--config` file's entries included) and the resolved settings
/// of the run. Every result directory records it in its `manifest.json` (``DiagnosticFiles``), so
/// each CSV and SVG there is covered; `compare`'s and `rober-fit`'s `summary.json` carry it too
/// (README "Outputs"). `simulate` and `gradient` record it in their JSON document, or for CSV
/// written to a file in the sidecar `FILE.provenance.json` (``sidecarPath(for:)``), with their
/// resolved settings value as ``settings``.
public struct Provenance: Encodable, Sendable {
    public var version = NeuroODEVersion.string
    /// The command line as typed, the program's name first.
    public var commandLine: [String]
    /// The arguments parsed: `commandLine` with a `--config` file's entries in place.
    public var arguments: [String]
    /// The run's resolved settings (parameters, integrator, step or tolerances, seed, precision…),
    /// defaults included; empty where the result files hold them (`summary.json`).
    public var configuration: [String: JSONValue]
    /// A study's settings value with its defaults resolved (``SimulationStudy``,
    /// ``GradientStudy``), for the commands whose settings are one Codable value.
    public var settings: (any Encodable & Sendable)?

    public init(commandLine: [String], arguments: [String], configuration: [String: JSONValue] = [:], settings: (any Encodable & Sendable)? = nil) {
        self.commandLine = commandLine
        self.arguments = arguments
        self.configuration = configuration
        self.settings = settings
    }

    private enum CodingKeys: String, CodingKey {
        case version, commandLine, arguments, configuration, settings
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(commandLine, forKey: .commandLine)
        try container.encode(arguments, forKey: .arguments)
        try container.encode(configuration, forKey: .configuration)
        if let settings { try settings.encode(to: container.superEncoder(forKey: .settings)) }
    }

    /// `out/run.csv` → `out/run.csv.provenance.json`: where a CSV file's provenance goes, so the
    /// CSV itself stays plain for every reader.
    public static func sidecarPath(for output: String) -> String {
        output + ".provenance.json"
    }

    /// This process's invocation with `configuration`; the executable sets the command line once
    /// (``recordInvocation(commandLine:arguments:)``), a program linking the library may leave it
    /// empty.
    public static func current(configuration: [String: JSONValue] = [:]) -> Provenance {
        invocationLock.lock()
        defer { invocationLock.unlock() }
        return Provenance(commandLine: invocation.commandLine, arguments: invocation.arguments, configuration: configuration)
    }

    /// This process's invocation with a study's resolved `settings`.
    public static func current(settings: some Encodable & Sendable) -> Provenance {
        var provenance = current()
        provenance.settings = settings
        return provenance
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
