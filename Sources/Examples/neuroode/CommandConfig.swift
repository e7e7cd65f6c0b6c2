import Foundation
import NeuroODEStudies

/// Options read from `--config FILE.json`, for the diagnostic commands.
///
/// The file is one JSON object whose keys are the command's long option names without the dashes
/// (`{"points": 41, "methods": "bptt,es", "out": "runs/a"}`); a list option also takes a JSON
/// array. A flag given on the command line overrides the file; a key the command does not have,
/// or a value of the wrong type, is an error naming the key, the value and the file — so a typo
/// in a config is never silently ignored.
struct CommandConfig {
    private let path: String
    private let entries: [String: Any]

    /// Reads `path` (`nil`: no file), accepting only `keys`.
    init(path: String?, keys: [String]) throws(CommandLineError) {
        guard let path else {
            self.path = ""
            entries = [:]
            return
        }
        let entries = try Self.object(at: path)
        for key in entries.keys.sorted() where !keys.contains(key) {
            throw .unknownName(kind: "key", name: key, owner: path, choices: keys)
        }
        self.path = path
        self.entries = entries
    }

    /// The JSON object in the file at `path`, or an error naming the file.
    static func object(at path: String) throws(CommandLineError) -> [String: Any] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .invalidValue(option: "--config", value: path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        return try object(from: data, path: path)
    }

    /// The JSON object in `data` (the contents of the file at `path`), or an error naming the file.
    static func object(from data: Data, path: String) throws(CommandLineError) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: data), let entries = object as? [String: Any] else {
            throw .invalidValue(option: "--config", value: path, reason: "not a JSON object of options: expected one object of option names and values")
        }
        return entries
    }

    /// Whether a value from `JSONSerialization` is `true`/`false`. The test `is Bool` cannot tell:
    /// on Linux it also holds for the numbers 0 and 1. Booleans are the NSNumbers of type `c`.
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// The flag if given, else the file's number under `key`.
    func number(_ flag: Double?, _ key: String) throws(CommandLineError) -> Double? {
        if let flag { return flag }
        guard let raw = entries[key] else { return nil }
        guard !Self.isBoolean(raw), let value = (raw as? NSNumber)?.doubleValue else { throw mistyped(key, raw, "a number") }
        return value
    }

    /// The flag if given, else the file's whole number under `key`.
    func integer(_ flag: Int?, _ key: String) throws(CommandLineError) -> Int? {
        if let flag { return flag }
        guard let raw = entries[key] else { return nil }
        guard !Self.isBoolean(raw), let value = (raw as? NSNumber)?.doubleValue, value == value.rounded(), abs(value) < 1e15 else {
            throw mistyped(key, raw, "a whole number")
        }
        return Int(value)
    }

    /// The flag if given, else the file's string under `key`; a JSON array of strings is joined
    /// with commas, like the flag's list syntax.
    func string(_ flag: String?, _ key: String) throws(CommandLineError) -> String? {
        if let flag { return flag }
        guard let raw = entries[key] else { return nil }
        if let text = raw as? String { return text }
        if let list = raw as? [Any], let strings = list as? [String] { return strings.joined(separator: ",") }
        throw mistyped(key, raw, "a string")
    }

    private func mistyped(_ key: String, _ raw: Any, _ expected: String) -> CommandLineError {
        .invalidValue(option: "'\(key)' in \(path)", value: "\(raw)", reason: "expected \(expected)")
    }
}
