import Foundation
import Gradients
import NeuroODE

/// A command-line value the simulation never got to see: a malformed list, an unknown name, an
/// option that does not apply. Every case names the option and the offending text.
public enum CommandLineError: Error, CustomStringConvertible, Equatable {
    /// `value` given to `option` is not acceptable; `reason` says what is expected.
    case invalidValue(option: String, value: String, reason: String)
    /// A name (model, preset, integrator) that is not one of `choices`; `owner` is the model a
    /// preset belongs to.
    case unknownName(kind: String, name: String, owner: String? = nil, choices: [String])
    /// An option that has no meaning for the chosen model or integrator.
    case inapplicable(option: String, reason: String)
    /// A file could not be written.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidValue(option, value, reason):
            return "invalid value '\(value)' for \(option): \(reason)"
        case let .unknownName(kind, name, owner, choices):
            let scope = owner.map { " for \($0)" } ?? ""
            return "unknown \(kind) '\(name)'\(scope); choose one of: \(choices.joined(separator: ", "))"
        case let .inapplicable(option, reason):
            return "\(option) does not apply here: \(reason)"
        case let .cannotWrite(path, reason):
            return "cannot write '\(path)': \(reason)"
        }
    }

    /// The options behind the fields of a checkpoint's identity (``TrainingRunIdentity``).
    private static let identityOptions: [String: String] = [
        "learningRate": "--learning-rate", "weightDecay": "--weight-decay", "beta1": "--optimizer", "beta2": "--optimizer",
        "epsilon": "--optimizer", "optimizer": "--optimizer", "seed": "--seed", "method": "--method",
        "method settings": "--samples/--sigma", "gradient clip": "--clip", "configuration": "the problem's options",
    ]

    /// A trainer's error, with the option to change when a checkpoint belongs to another run.
    public static func describe(_ error: TrainerError) -> String {
        if case let .checkpointMismatch(_, field, _, _) = error, let option = identityOptions[field] {
            return "\(option): \(error)"
        }
        return error.description
    }

    /// The library's message, prefixed with the command-line option that supplied the value.
    public static func describe(_ error: ODEError) -> String {
        switch error {
        case .nonFiniteInitialState:
            return "--y0: \(error)"
        case let .dimensionMismatch(what, _, _) where what.hasPrefix("initial state"):
            return "--y0: \(error)"
        case .nonFiniteParameter, .invalidParameter, .unknownParameter:
            return "--param: \(error)"
        case .invalidStepSize:
            return "--dt: \(error)"
        case .invalidOutputTimes:
            return "--times: \(error)"
        case .invalidTimeSpan:
            return "--t-end: \(error)"
        case .tooManySteps:
            return "--t-end/--dt: \(error)"
        case .implausibleState:
            return "--dt: \(error)"
        default:
            return "\(error)"
        }
    }
}

/// Parsing of the comma-separated lists and NAME=VALUE pairs the options take.
public enum ArgumentList {
    /// Parses `"1, 2.5,-3e4"`; an empty item or a non-number is an error naming it.
    public static func numbers(_ text: String, option: String) throws(CommandLineError) -> [Double] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        var values: [Double] = []
        values.reserveCapacity(items.count)
        for item in items {
            let trimmed = item.trimmingCharacters(in: .whitespaces)
            guard let value = Double(trimmed) else {
                let reason = trimmed.isEmpty
                    ? "the comma-separated list has an empty item" : "'\(trimmed)' is not a number"
                throw .invalidValue(option: option, value: text, reason: reason)
            }
            values.append(value)
        }
        return values
    }

    /// Parses the `NAME=VALUE` items of a list option, each given text possibly holding several
    /// items separated by newlines (``RepeatedOptions`` merges repeated occurrences that way).
    public static func assignments(_ texts: [String], option: String) throws(CommandLineError) -> [(name: String, value: Double)] {
        var result: [(name: String, value: Double)] = []
        for text in texts {
            for item in text.split(separator: "\n", omittingEmptySubsequences: false) {
                result.append(try assignment(String(item), option: option))
            }
        }
        return result
    }

    /// Parses `NAME=VALUE` with a numeric value.
    public static func assignment(_ text: String, option: String) throws(CommandLineError) -> (name: String, value: Double) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        guard parts.count == 2, !name.isEmpty else {
            throw .invalidValue(option: option, value: text, reason: "expected NAME=VALUE")
        }
        let valueText = parts[1].trimmingCharacters(in: .whitespaces)
        guard let value = Double(valueText) else {
            throw .invalidValue(option: option, value: text, reason: "'\(valueText)' is not a number")
        }
        return (name, value)
    }
}
