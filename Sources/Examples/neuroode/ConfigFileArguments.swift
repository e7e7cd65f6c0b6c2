import Foundation
import NeuroODEStudies

/// `--config FILE.json` for the commands whose options are parsed by ArgumentParser alone
/// (`simulate`, `gradient`): the file's entries become command-line arguments placed before the
/// ones typed, so a flag on the command line wins over the file (for a single-value option the
/// last occurrence counts).
///
/// The file is one JSON object keyed by long option names without the dashes:
/// `{"method": "es", "samples": 40, "param": ["I=97"], "ranks": true}`. Numbers and strings
/// become `--key value`; `true` becomes the flag `--key` (`false` leaves it out); an array
/// repeats the option once per element (`--param`). A key the command does not have is then an
/// unknown option, reported with the file's name.
struct ConfigFileArguments: Sendable {
    /// The subcommands this expansion serves; the others read `--config` themselves.
    static let subcommands: Set<String> = ["simulate", "gradient"]

    /// `arguments` with `--config FILE` (or `--config=FILE`) after a served subcommand replaced by
    /// the file's entries; also returns the file's path, for error messages.
    static func expand(_ arguments: [String]) throws(CommandLineError) -> (arguments: [String], file: String?) {
        guard let start = arguments.firstIndex(where: { subcommands.contains($0) }) else { return (arguments, nil) }
        var rest = Array(arguments[(start + 1)...])
        guard let position = rest.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else {
            return (arguments, nil)
        }
        let path: String
        if rest[position] == "--config" {
            guard position + 1 < rest.count else {
                throw .invalidValue(option: "--config", value: "", reason: "expects a JSON file")
            }
            path = rest[position + 1]
            rest.removeSubrange(position...(position + 1))
        } else {
            path = String(rest[position].dropFirst("--config=".count))
            rest.remove(at: position)
        }
        let expanded = try entries(of: path)
        return (Array(arguments[...start]) + expanded + rest, path)
    }

    /// The file's entries as arguments, keys in sorted order.
    private static func entries(of path: String) throws(CommandLineError) -> [String] {
        try arguments(from: try CommandConfig.object(at: path), path: path)
    }

    /// A config object's entries as arguments, keys in sorted order; `path` names the file in errors.
    static func arguments(from entries: [String: Any], path: String) throws(CommandLineError) -> [String] {
        var arguments: [String] = []
        for key in entries.keys.sorted() {
            guard !key.isEmpty, !key.hasPrefix("-"), key != "config" else {
                throw .invalidValue(option: "--config", value: path, reason: "'\(key)' is not an option name (write names without dashes)")
            }
            let values = (entries[key] as? [Any]) ?? [entries[key] as Any]
            for value in values {
                if CommandConfig.isBoolean(value), let flag = (value as? NSNumber)?.boolValue {
                    if flag { arguments.append("--\(key)") }
                } else if let number = value as? NSNumber {
                    arguments.append("--\(key)=\(number.stringValue)")
                } else if let text = value as? String {
                    arguments.append("--\(key)=\(text)")
                } else {
                    throw .invalidValue(
                        option: "'\(key)' in \(path)", value: "\(value)", reason: "expected a number, a string, true/false or an array of them")
                }
            }
        }
        return arguments
    }
}
