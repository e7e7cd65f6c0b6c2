import NeuroODE

/// Mismatch between the trajectory at observation times and target data, averaged over every
/// observed entry: mean absolute error (the spiral and ROBER tasks' metric) or mean squared error.
/// Each state component i may be divided by a scale sᵢ first (ROBER: the per-species maximum of the
/// data), so that components of very different sizes weigh alike.
///
/// When the state stacks independent trials of `trialDimension` components each (a
/// ``BatchedSystem``, the spiral's windows), the mean is a sum of per-trial terms, so it is a
/// ``TrialSeparableLoss``: ``restricted(toTrials:)`` keeps a trial range's targets and the whole
/// state's divisor (``averagedEntries``), so the parts' losses sum to the whole one.
public struct TrajectoryMatchingLoss: TrialSeparableLoss {
    /// How residuals are combined: mean absolute (MAE) or mean squared (MSE).
    public enum Metric: String, Sendable, CaseIterable {
        /// The mean of |residual| over the compared entries (MAE).
        case meanAbsolute = "mae"
        /// The mean of residual² over the compared entries (MSE).
        case meanSquared = "mse"
    }

    public let observationTimes: [Double]
    /// Row-major targets, one state per observation time.
    public let targets: [Double]
    /// The state dimension n (the length of each target row).
    public let dimension: Int
    /// MAE (the default) or MSE.
    public let metric: Metric
    /// sᵢ per state component, or `nil` for none.
    public let scale: [Double]?
    /// Which components are compared (default: all).
    public let components: [Int]
    /// Components per trial: the state is `dimension / trialDimension` stacked trials (default: one
    /// trial, the whole state).
    public let trialDimension: Int
    /// The divisor of the mean: observation times × compared components, of the whole state also
    /// in a part made by ``restricted(toTrials:)``.
    public private(set) var averagedEntries: Int

    /// Compares the trajectory at `times` with `targets` (row-major, `dimension` entries per time).
    /// Traps unless there is one target row per time and `trialDimension` divides `dimension`.
    /// `components` defaults to all; `trialDimension` to `dimension` (one trial).
    public init(times: [Double], targets: [Double], dimension: Int, metric: Metric = .meanAbsolute,
                scale: [Double]? = nil, components: [Int]? = nil, trialDimension: Int? = nil) {
        precondition(targets.count == times.count * dimension, "one target state per observation time")
        let trialDimension = trialDimension ?? dimension
        precondition(trialDimension >= 1 && dimension % trialDimension == 0, "whole trials of trialDimension components")
        observationTimes = times
        self.targets = targets
        self.dimension = dimension
        self.metric = metric
        self.scale = scale
        self.components = components ?? Array(0..<dimension)
        self.trialDimension = trialDimension
        averagedEntries = times.count * self.components.count
    }

    public var trialCount: Int { dimension / trialDimension }

    /// The terms of trials `range` alone, over their `range.count · trialDimension` components; it
    /// still divides by the whole state's ``averagedEntries``.
    public func restricted(toTrials range: Range<Int>) throws(ODEError) -> TrajectoryMatchingLoss {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= trialCount else {
            throw .dimensionMismatch(what: "trial range end (trial count)", expected: trialCount, actual: range.upperBound)
        }
        let first = range.lowerBound * trialDimension, width = range.count * trialDimension
        let targets = observationTimes.indices.flatMap { k in self.targets[(k * dimension + first)..<(k * dimension + first + width)] }
        var part = TrajectoryMatchingLoss(
            times: observationTimes, targets: targets, dimension: width, metric: metric,
            scale: scale.map { Array($0[first..<(first + width)]) },
            components: components.filter { (first..<(first + width)).contains($0) }.map { $0 - first },
            trialDimension: trialDimension)
        part.averagedEntries = averagedEntries
        return part
    }

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        var value = 0.0
        var gradient = [Double](repeating: 0, count: observations.count)
        let count = Double(averagedEntries)
        for k in observationTimes.indices {
            for i in components {
                let s = scale?[i] ?? 1
                let index = k * dimension + i
                let residual = (observations[index] - targets[index]) / s
                switch metric {
                case .meanAbsolute:
                    value += abs(residual)
                    gradient[index] = (residual > 0 ? 1 : (residual < 0 ? -1 : 0)) / (s * count)
                case .meanSquared:
                    value += residual * residual
                    gradient[index] = 2 * residual / (s * count)
                }
            }
        }
        return LossGradient(value: value / count, integrals: [], observations: gradient, parameters: [])
    }
}
