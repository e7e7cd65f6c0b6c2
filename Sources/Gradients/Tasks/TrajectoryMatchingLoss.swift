/// Mismatch between the trajectory at observation times and target data, averaged over every
/// observed entry: mean absolute error (the spiral and ROBER tasks' metric) or mean squared error.
/// Each state component i may be divided by a scale sᵢ first (ROBER: the per-species maximum of the
/// data), so that components of very different sizes weigh alike.
public struct TrajectoryMatchingLoss: TaskLoss {
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

    /// Compares the trajectory at `times` with `targets` (row-major, `dimension` entries per time).
    /// Traps unless there is one target row per time. `components` defaults to all.
    public init(times: [Double], targets: [Double], dimension: Int, metric: Metric = .meanAbsolute,
                scale: [Double]? = nil, components: [Int]? = nil) {
        precondition(targets.count == times.count * dimension, "one target state per observation time")
        observationTimes = times
        self.targets = targets
        self.dimension = dimension
        self.metric = metric
        self.scale = scale
        self.components = components ?? Array(0..<dimension)
    }

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        var value = 0.0
        var gradient = [Double](repeating: 0, count: observations.count)
        let count = Double(observationTimes.count * components.count)
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
