/// Which states a solve keeps.
public enum OutputSchedule: Sendable, Equatable {
    /// The state at these times, interpolated by the integrator's own dense output. The times must
    /// be finite, strictly monotone in the direction of integration and inside the span.
    case times([Double])
    /// The initial state, every k-th step (k ≥ 1), and the final state.
    case everyStep(Int)
    /// Only the final state: the cheapest option, used by training loops and benchmarks.
    case finalState

    /// Checks the schedule against a span, throwing an error that names the bad value.
    public func validate(start: Double, end: Double) throws(ODEError) {
        switch self {
        case .finalState:
            return
        case let .everyStep(k):
            guard k >= 1 else { throw .invalidOutputTimes(reason: "every-step stride \(k) must be at least 1") }
        case let .times(times):
            guard !times.isEmpty else { throw .invalidOutputTimes(reason: "the list of output times is empty") }
            let lower = min(start, end), upper = max(start, end)
            let sign: Double = end >= start ? 1 : -1
            for (i, t) in times.enumerated() {
                guard t.isFinite else { throw .invalidOutputTimes(reason: "time #\(i) = \(t) is not finite") }
                guard t >= lower, t <= upper else {
                    throw .invalidOutputTimes(reason: "time \(t) lies outside the span [\(start), \(end)]")
                }
                if i > 0, !((t - times[i - 1]) * sign > 0) {
                    throw .invalidOutputTimes(
                        reason: "times must be strictly \(sign > 0 ? "increasing" : "decreasing"): \(times[i - 1]) then \(t)")
                }
            }
        }
    }
}

/// Spike detection: upward crossings of `threshold` by the listed state variables, with the
/// crossing time linearly interpolated inside the step in which it happened.
public struct SpikeDetection: Sendable, Equatable {
    /// The crossing level, in the variables' unit (mV for membrane potentials).
    public var threshold: Double
    /// State indices to watch; `nil` means the system's ``ODESystem/voltageIndices``.
    public var variables: [Int]?

    /// Detects upward crossings of `threshold` by `variables` (the system's voltages when `nil`).
    public init(threshold: Double = 0, variables: [Int]? = nil) {
        self.threshold = threshold
        self.variables = variables
    }
}
