import NeuroODE

/// The spike-timing loss (README "Gradients through events"): the mean squared error of the first
/// K spike times against K targets,
///
///     L = (1/K) Σₖ (tₖ − targetₖ)²    (ms²),
///
/// where the spikes are the times of one event of a ``DifferentiableEventSystem`` (a LIF or
/// Izhikevich reset). **Penalty:** a spike that does not occur within the horizon counts as firing
/// at the horizon's end T, so its term is (T − targetₖ)²: finite and large when the target lies
/// well inside the horizon, but constant in θ, so no gradient method gets a signal from a missing
/// spike (forward-only methods may, when a perturbation brings it back).
public struct SpikeTimingLoss: Sendable, Equatable {
    /// targetₖ (ms), strictly increasing.
    public let targets: [Double]
    /// Which event's times are the spikes (0 for LIF and Izhikevich).
    public let eventIndex: Int

    /// The loss against `targets` (finite, strictly increasing, at least one) on the times of event
    /// `eventIndex`.
    public init(targets: [Double], eventIndex: Int = 0) throws(TrainingError) {
        guard !targets.isEmpty else { throw .invalidOption(name: "targets", value: "[]", reason: "need at least one target spike time") }
        for (k, target) in targets.enumerated() {
            guard target.isFinite else { throw .invalidOption(name: "targets", value: "\(target)", reason: "target \(k + 1) must be finite") }
            if k > 0, !(target > targets[k - 1]) {
                throw .invalidOption(name: "targets", value: "\(target)", reason: "targets must be strictly increasing")
            }
        }
        self.targets = targets
        self.eventIndex = eventIndex
    }

    /// K.
    public var count: Int { targets.count }

    /// The first K spike times from `events`, a missing one replaced by `horizonEnd`.
    public func spikeTimes(_ events: [Solution.Event], horizonEnd: Double) -> [Double] {
        var times = Array(events.lazy.filter { $0.index == eventIndex }.prefix(count).map(\.time))
        while times.count < count { times.append(horizonEnd) }
        return times
    }

    /// L for the first K spike times (missing ones already replaced by T).
    public func value(spikeTimes: [Double]) -> Double {
        zip(spikeTimes, targets).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(count)
    }

    /// ∂L/∂tₖ = 2(tₖ − targetₖ)/K for the first `fired` spikes (the ones that occurred).
    public func timeCotangents(spikeTimes: [Double], fired: Int) -> [Double] {
        (0..<min(fired, count)).map { 2 * (spikeTimes[$0] - targets[$0]) / Double(count) }
    }
}
