import Foundation

/// `--config FILE.json`: the one reader of configuration files, for every command.
///
/// The file is one JSON object keyed by the command's long option names without the dashes:
/// `{"method": "es", "samples": 40, "param": ["I=97"], "ranks": true}`. It is decoded here, each
/// value checked, and turned into the command-line arguments those options would be
/// (``arguments(repeating:)``), which the command then parses exactly as if they had been typed
/// before its own arguments: so a file is validated by the same code as the command line, and a
/// flag typed on the command line wins over the file (for a single-value option the last
/// occurrence counts). A key the command does not have, or a value of the wrong type, is an error
/// naming the key and the file.
public struct ConfigurationFile: Sendable {
    /// A value the options can take.
    public enum Value: Sendable, Equatable {
        case boolean(Bool)
        /// A number, as its exact decimal text (`2`, `0.5`, `1e-05`).
        case number(String)
        case string(String)
        /// A list of numbers or of strings (one kind).
        case list([Value])
    }

    /// The file's path, for messages.
    public let path: String
    /// The entries, keys in sorted order.
    public let entries: [(key: String, value: Value)]

    /// Reads and decodes the file at `path`.
    public init(path: String) throws(CommandLineError) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .invalidValue(option: "--config", value: path, reason: "cannot read the file (\(error.localizedDescription))")
        }
        try self.init(data: data, path: path)
    }

    /// Decodes `data`, the contents of the file at `path`.
    public init(data: Data, path: String) throws(CommandLineError) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch let error as EntryError {
            throw .invalidValue(option: "--config", value: path, reason: "key '\(error.key)': \(error.reason)")
        } catch {
            throw .invalidValue(option: "--config", value: path, reason: "not a JSON object of options: expected one object of option names and values")
        }
        self.path = path
        entries = document.entries
    }

    /// The entries as command-line arguments, keys in sorted order: a number or string becomes
    /// `--key=value`, `true` the flag `--key` (`false` leaves it out), and a list one
    /// comma-separated value — or, for the options in `repeating` (`--param`), one `--key=item`
    /// per item.
    public func arguments(repeating: Set<String> = []) -> [String] {
        var arguments: [String] = []
        for (key, value) in entries {
            switch value {
            case let .boolean(flag):
                if flag { arguments.append("--\(key)") }
            case let .number(text), let .string(text):
                arguments.append("--\(key)=\(text)")
            case let .list(items):
                let texts = items.map(\.text)
                if repeating.contains("--\(key)") {
                    arguments += texts.map { "--\(key)=\($0)" }
                } else {
                    arguments.append("--\(key)=\(texts.joined(separator: ","))")
                }
            }
        }
        return arguments
    }

    /// The message for an error ArgumentParser raised while parsing the file's arguments: the key
    /// it concerns named, or nil when it concerns none of the file's keys.
    public func reason(forParsingError message: String) -> String? {
        guard let key = entries.map(\.key).first(where: { message.contains("'--\($0)'") || message.contains("'--\($0) ") || message.contains("'--\($0)=") }) else {
            return nil
        }
        if message.hasPrefix("Unknown option") { return "unknown key '\(key)' (not an option of this command; see --help)" }
        return "key '\(key)': \(message)"
    }
}

extension ConfigurationFile.Value {
    /// The value as command-line text.
    var text: String {
        switch self {
        case let .boolean(flag): "\(flag)"
        case let .number(text), let .string(text): text
        case let .list(items): items.map(\.text).joined(separator: ",")
        }
    }
}

/// A value the options cannot take, under its key.
private struct EntryError: Error {
    let key: String
    let reason: String
}

/// The file's top-level object, decoded key by key so that an error names its key.
private struct Document: Decodable {
    let entries: [(key: String, value: ConfigurationFile.Value)]

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var entries: [(key: String, value: ConfigurationFile.Value)] = []
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            let name = key.stringValue
            guard !name.isEmpty, !name.hasPrefix("-"), name != "config" else {
                throw EntryError(key: name, reason: "not an option name (write names without dashes)")
            }
            let value = try Self.value(container.superDecoder(forKey: key), key: name)
            if case let .list(items) = value {
                guard items.allSatisfy({ if case .number = $0 { true } else { false } })
                    || items.allSatisfy({ if case .string = $0 { true } else { false } }) else {
                    throw EntryError(key: name, reason: "expected true/false, a number, a string or a list of them, not a list mixing strings with other values")
                }
            }
            entries.append((name, value))
        }
        self.entries = entries
    }

    /// One value: true/false, a number, a string, or (at the top level only) a list of them.
    private static func value(_ decoder: any Decoder, key: String, nested: Bool = false) throws -> ConfigurationFile.Value {
        let expected = "expected true/false, a number, a string or a list of them"
        if var list = try? decoder.unkeyedContainer() {
            guard !nested else { throw EntryError(key: key, reason: "\(expected), not a list of lists") }
            var items: [ConfigurationFile.Value] = []
            while !list.isAtEnd {
                items.append(try value(try list.superDecoder(), key: key, nested: true))
            }
            return .list(items)
        }
        guard let single = try? decoder.singleValueContainer() else { throw EntryError(key: key, reason: "\(expected), not an object") }
        if single.decodeNil() { throw EntryError(key: key, reason: "\(expected), not null") }
        if let flag = try? single.decode(Bool.self) { return .boolean(flag) }
        if let whole = try? single.decode(Int64.self) { return .number("\(whole)") }
        if let whole = try? single.decode(UInt64.self) { return .number("\(whole)") }
        if let number = try? single.decode(Double.self) { return .number("\(number)") }
        if let text = try? single.decode(String.self) { return .string(text) }
        throw EntryError(key: key, reason: "\(expected), not an object")
    }
}
