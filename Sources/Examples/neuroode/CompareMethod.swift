import Foundation
import Gradients

/// A method `compare` trains with: a gradient method (under ``Trainer``, with the optimizer) or
/// CMA-ES, which is its own optimizer (under ``CMAESTrainer``; one generation per iteration,
/// `--sigma` its initial step size σ₀).
enum CompareMethod: Equatable {
    case gradient(GradientMethodKind)
    case cmaes(CMAES.Covariance)

    /// Every name, gradient methods first.
    static var names: [String] {
        GradientMethodKind.allCases.map(\.rawValue) + CMAES.Covariance.allCases.map { CMAES(covariance: $0).name }
    }

    init(name: String) throws(CommandLineError) {
        if let kind = GradientMethodKind(rawValue: name) {
            self = .gradient(kind)
        } else if let covariance = CMAES.Covariance.allCases.first(where: { CMAES(covariance: $0).name == name }) {
            self = .cmaes(covariance)
        } else {
            throw .unknownName(kind: "method", name: name, choices: Self.names)
        }
    }

    var name: String {
        switch self {
        case let .gradient(kind): kind.rawValue
        case let .cmaes(covariance): CMAES(covariance: covariance).name
        }
    }

    /// Whether `--samples` (ES) or `--sigma` (ES's σ, CMA-ES's σ₀) apply.
    /// CMA-ES reads `--sigma` as its initial step size.
    var readsSigma: Bool {
        if case .cmaes = self { return true }
        return false
    }

    /// CMA-ES's settings as summary entries.
    static func statistics(_ cmaes: CMAES, parameters: Int) -> [(key: String, value: JSONValue)] {
        let strategy = try? cmaes.strategy(dimension: parameters)
        return [("covariance", .string(cmaes.covariance.rawValue)), ("sigma0", .number(cmaes.initialStepSize)),
                ("population", .integer(strategy?.populationSize ?? 0)), ("parents", .integer(strategy?.parents ?? 0)),
                ("seed", .unsigned(cmaes.seed))]
    }
}

/// A CMA-ES run's final distribution as JSON: the mean (the trained θ), σ, the sampling
/// covariance σ²C and its correlation matrix, by parameter name — what CMA-ES learned about how
/// the parameters' good values depend on one another — plus the full state.
struct CMAESStateFile: Encodable {
    let method: String
    let run: Int
    let parameterNames: [String]
    let mean: [Double]
    let stepSize: Double
    let generations: Int
    let evaluations: Int
    let conditionNumber: Double
    /// σ²C, row-major.
    let samplingCovariance: [Double]
    /// Row-major.
    let correlation: [Double]
    let state: CMAESState

    init(method: String, run: Int, names: [String], state: CMAESState) {
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
    func write(to directory: String) throws(CommandLineError) -> String {
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
