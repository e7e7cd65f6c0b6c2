import Foundation
import NeuroODEStudies

/// `--config FILE.json`: one JSON object whose keys are option names. Unknown keys and values of
/// the wrong type are errors naming the key.
struct ConfigurationFile {
    let path: String
    private let values: [String: Value]

    enum Value {
        case boolean(Bool)
        case number(Double)
        case string(String)
        case strings([String])

        /// A JSON value read by `JSONSerialization`, or nil for `null`, objects and lists that are
        /// not all strings.
        init?(json: Any) {
            switch json {
            case let number as NSNumber where CommandConfig.isBoolean(number):
                self = .boolean(number.boolValue)
            case let number as NSNumber:
                self = .number(number.doubleValue)
            case let text as String:
                self = .string(text)
            case let list as [Any]:
                guard let strings = list as? [String], strings.count == list.count else { return nil }
                self = .strings(strings)
            default:
                return nil
            }
        }

        var text: String {
            switch self {
            case let .boolean(value): "\(value)"
            case let .number(value): "\(value)"
            case let .string(value): "\"\(value)\""
            case let .strings(value): "[\(value.joined(separator: ", "))]"
            }
        }
    }

    /// Reads the file (one JSON object, ``CommandConfig/object(at:)``); a key not in
    /// `allowedKeys`, or a value that is `null`, an object or a list mixing types, is an error
    /// naming the key.
    init(path: String, allowedKeys: [String]) throws(CommandLineError) {
        try self.init(entries: try CommandConfig.object(at: path), path: path, allowedKeys: allowedKeys)
    }

    /// The options of a config object already read; `path` names the file in errors.
    init(entries: [String: Any], path: String, allowedKeys: [String]) throws(CommandLineError) {
        self.path = path
        let allowed = Set(allowedKeys)
        if let unknown = entries.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalidValue(option: "--config", value: path, reason: "unknown key '\(unknown)'; allowed: \(allowedKeys.joined(separator: ", "))")
        }
        var values: [String: Value] = [:]
        for key in entries.keys.sorted() {
            guard let value = Value(json: entries[key]!) else {
                throw .invalidValue(
                    option: "--config", value: path,
                    reason: "key '\(key)': expected true/false, a number, a string or a list of strings, not \(Self.kind(of: entries[key]!))")
            }
            values[key] = value
        }
        self.values = values
    }

    /// The JSON kind of a value the options cannot take, in words.
    private static func kind(of json: Any) -> String {
        switch json {
        case is NSNull: "null"
        case is [String: Any]: "an object"
        case is [Any]: "a list mixing strings with other values"
        default: "\(json)"
        }
    }

    func invalid(_ key: String, _ reason: String) -> CommandLineError {
        .invalidValue(option: "--config", value: path, reason: "key '\(key)' = \(values[key]?.text ?? "?"): \(reason)")
    }

    func integer(_ key: String) throws(CommandLineError) -> Int? {
        guard let value = values[key] else { return nil }
        guard case let .number(number) = value, number.rounded() == number, abs(number) < 1e15 else { throw invalid(key, "expected an integer") }
        return Int(number)
    }

    func number(_ key: String) throws(CommandLineError) -> Double? {
        guard let value = values[key] else { return nil }
        guard case let .number(number) = value else { throw invalid(key, "expected a number") }
        return number
    }

    func string(_ key: String) throws(CommandLineError) -> String? {
        guard let value = values[key] else { return nil }
        guard case let .string(text) = value else { throw invalid(key, "expected a string") }
        return text
    }

    func boolean(_ key: String) throws(CommandLineError) -> Bool? {
        guard let value = values[key] else { return nil }
        guard case let .boolean(flag) = value else { throw invalid(key, "expected true or false") }
        return flag
    }

    /// A list given as a JSON array of strings or as one comma-separated string.
    func list(_ key: String) throws(CommandLineError) -> [String]? {
        guard let value = values[key] else { return nil }
        switch value {
        case let .strings(items): return items
        case let .string(text): return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        default: throw invalid(key, "expected a list of names")
        }
    }
}
