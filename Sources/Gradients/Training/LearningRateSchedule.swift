import Foundation

/// How the learning rate η changes with the iteration k (counted from 0): the ``Trainer`` sets
/// the optimizer's rate to `learningRate(at: k, initial: η₀)` before every update, η₀ being the
/// optimizer's own rate. Every schedule is a closed form in k, so a resumed run uses exactly the
/// rates of an uninterrupted one; each rollback then multiplies the result by
/// ``TrainerConfiguration/learningRateFactor``.
public enum LearningRateSchedule: Sendable, Codable, Equatable, CustomStringConvertible {
    /// η_k = η₀.
    case constant
    /// η_k = η₀ · factor^⌊k / every⌋: multiplied by `factor` every `every` iterations.
    case step(every: Int, factor: Double)
    /// η_k = η₀ · factor^k: multiplied by `factor` every iteration.
    case exponential(factor: Double)
    /// η_k = η_min + (η₀ − η_min) · (1 + cos(π · min(k, period) / period)) / 2, η_min = η₀ · `floor`:
    /// half a cosine from η₀ down to η_min over `period` iterations, then η_min (SGDR without restarts).
    case cosine(period: Int, floor: Double)

    /// η at iteration `k`, for initial rate `initial`.
    public func learningRate(at k: Int, initial: Double) -> Double {
        switch self {
        case .constant:
            return initial
        case let .step(every, factor):
            return initial * pow(factor, Double(k / every))
        case let .exponential(factor):
            return initial * pow(factor, Double(k))
        case let .cosine(period, floor):
            let minimum = initial * floor
            let progress = Double(min(k, period)) / Double(period)
            return minimum + (initial - minimum) * (1 + cos(Double.pi * progress)) / 2
        }
    }

    /// Checks the schedule's numbers, naming the bad one.
    public func validate() throws(TrainingError) {
        switch self {
        case .constant:
            return
        case let .step(every, factor):
            guard every >= 1 else { throw .invalidOption(name: "schedule.every", value: "\(every)", reason: "must be at least 1") }
            try Self.check(factor: factor)
        case let .exponential(factor):
            try Self.check(factor: factor)
        case let .cosine(period, floor):
            guard period >= 1 else { throw .invalidOption(name: "schedule.period", value: "\(period)", reason: "must be at least 1") }
            guard floor >= 0, floor <= 1 else {
                throw .invalidOption(name: "schedule.floor", value: "\(floor)", reason: "must lie in [0, 1] (a fraction of the initial rate)")
            }
        }
    }

    private static func check(factor: Double) throws(TrainingError) {
        guard factor > 0, factor <= 1 else {
            throw .invalidOption(name: "schedule.factor", value: "\(factor)", reason: "must lie in (0, 1]")
        }
    }

    /// The schedule in words, for run identities and logs ("constant", "exponential ×0.99").
    public var description: String {
        switch self {
        case .constant: "constant"
        case let .step(every, factor): "step ×\(factor) every \(every)"
        case let .exponential(factor): "exponential ×\(factor)"
        case let .cosine(period, floor): "cosine over \(period) to ×\(floor)"
        }
    }
}
