import Foundation

/// A gradient method that failed on valid input.
public enum GradientFailure: Error, CustomStringConvertible {
    /// A simulation inside the method failed.
    case methodFailed(method: String, reason: String)
    /// The method returned a gradient with a non-finite entry: reported, never printed as a number.
    case nonFiniteGradient(method: String, name: String, value: Double)

    public var description: String {
        switch self {
        case let .methodFailed(method, reason):
            return "\(method) failed: \(reason)"
        case let .nonFiniteGradient(method, name, value):
            return "\(method) returned a non-finite gradient: \(name) = \(value)"
        }
    }
}
