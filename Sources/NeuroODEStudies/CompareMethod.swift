import Foundation
import Gradients

/// A method `compare` trains with: a gradient method (under ``Trainer``, with the optimizer) or
/// CMA-ES, which is its own optimizer (under ``CMAESTrainer``; one generation per iteration,
/// `--sigma` its initial step size σ₀).
public enum CompareMethod: Equatable {
    case gradient(GradientMethodKind)
    case cmaes(CMAES.Covariance)

    /// Every name, gradient methods first.
    public static var names: [String] {
        GradientMethodKind.allCases.map(\.rawValue) + CMAES.Covariance.allCases.map { CMAES(covariance: $0).name }
    }

    public init(name: String) throws(CommandLineError) {
        if let kind = GradientMethodKind(rawValue: name) {
            self = .gradient(kind)
        } else if let covariance = CMAES.Covariance.allCases.first(where: { CMAES(covariance: $0).name == name }) {
            self = .cmaes(covariance)
        } else {
            throw .unknownName(kind: "method", name: name, choices: Self.names)
        }
    }

    public var name: String {
        switch self {
        case let .gradient(kind): kind.rawValue
        case let .cmaes(covariance): CMAES(covariance: covariance).name
        }
    }

    /// Whether `--samples` (ES) or `--sigma` (ES's σ, CMA-ES's σ₀) apply.
    /// CMA-ES reads `--sigma` as its initial step size.
    public var readsSigma: Bool {
        if case .cmaes = self { return true }
        return false
    }

    /// CMA-ES's settings as summary entries.
    public static func statistics(_ cmaes: CMAES, parameters: Int) -> [(key: String, value: JSONValue)] {
        let strategy = try? cmaes.strategy(dimension: parameters)
        return [("covariance", .string(cmaes.covariance.rawValue)), ("sigma0", .number(cmaes.initialStepSize)),
                ("population", .integer(strategy?.populationSize ?? 0)), ("parents", .integer(strategy?.parents ?? 0)),
                ("seed", .unsigned(cmaes.seed))]
    }
}

/// A CMA-ES run's final distribution as JSON: the mean (the trained θ), σ, the sampling
/// covariance σ²C and its correlation matrix, by parameter name — what CMA-ES learned about how
/// the parameters' good values depend on one another — plus the full state.
public struct CMAESStateFile: Encodable {
    public let method: String
    public let run: Int
    public let parameterNames: [String]
    public let mean: [Double]
    public let stepSize: Double
    public let generations: Int
    public let evaluations: Int
    public let conditionNumber: Double
    /// σ²C, row-major.
    public let samplingCovariance: [Double]
    /// Row-major.
    public let correlation: [Double]
    public let state: CMAESState

    public init(method: String, run: Int, names: [String], state: CMAESState) {
        self.method = method
        self.run = run
        parameterNames = names
        mean = state.mean
        stepSize = state.stepSize
        generations = state.generation
        evaluations = state.evaluations
        conditionNumber = state.conditionNumber
        samplingCovariance = state.samplingCovariance
        correlation = state.correlation
        self.state = state
    }

    /// Writes DIR/METHOD-runR-state.json and returns its path.
    public func write(to directory: String) throws(CommandLineError) -> String {
        let path = (directory as NSString).appendingPathComponent("\(method)-run\(run)-state.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
        return path
    }
}
