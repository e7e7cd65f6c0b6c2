/// Collects what an integrator produces, so that every integrator samples, detects spikes and
/// records events the same way.
///
/// Protocol for integrators: call ``start(at:state:)`` once, then after every accepted step
/// 1. write the state at each due output time (``nextOutputTime``) with the integrator's own
///    interpolant and pass it to ``recordOutput(at:state:)``;
/// 2. call ``observeStep(from:previous:to:current:)`` with the step's end points;
/// 3. report fired events with ``recordEvent(_:at:)``;
/// and finally call ``complete(at:state:)``. Nothing here allocates per step except the growth of
/// the output arrays themselves.
public struct TrajectoryRecorder: Sendable {
    /// The state dimension n of the recorded states.
    public let dimension: Int
    /// Which states to keep.
    public let schedule: OutputSchedule
    /// The spike detection level (0 when no spikes are detected).
    public let spikeThreshold: Double
    /// State indices watched for spikes; empty when spike detection is off.
    public let spikeVariables: [Int]
    private let direction: Double

    private(set) var times: [Double] = []
    private(set) var states: [Double] = []
    private(set) var spikeTimes: [[Double]]
    private(set) var events: [Solution.Event] = []
    private var requestedTimes: [Double] = []
    private var nextRequested = 0
    private var stepCount = 0
    private var lastRecordedStep = -1
    private(set) var finalTime = Double.nan
    private(set) var finalState: [Double] = []
    private let integrand: RunningIntegrand?
    /// ∫ r(t, y) dt so far (trapezoid over the observed steps), and r at the last step's end.
    private(set) var integrals: [Double]
    private var lastIntegrand: [Double]
    private var currentIntegrand: [Double]

    /// A recorder for one solve.
    ///
    /// - Parameters:
    ///   - dimension: the state dimension n.
    ///   - schedule: which states to keep.
    ///   - spikes: spike detection, or `nil` for none; its `nil` variables mean `voltageIndices`.
    ///   - voltageIndices: the system's membrane potentials (``ODESystem/voltageIndices``).
    ///   - direction: the sign of `endTime − startTime` (≥ 0 counts as forward).
    ///   - integrand: running costs to integrate by the trapezoid rule over the observed steps.
    public init(dimension: Int, schedule: OutputSchedule, spikes: SpikeDetection?, voltageIndices: [Int], direction: Double,
                integrand: RunningIntegrand? = nil) {
        self.dimension = dimension
        self.integrand = integrand
        integrals = Array(repeating: 0, count: integrand?.count ?? 0)
        lastIntegrand = integrals
        currentIntegrand = integrals
        self.schedule = schedule
        self.direction = direction >= 0 ? 1 : -1
        self.spikeThreshold = spikes?.threshold ?? 0
        self.spikeVariables = spikes.map { $0.variables ?? voltageIndices } ?? []
        self.spikeTimes = Array(repeating: [], count: spikeVariables.count)
        if case let .times(list) = schedule {
            requestedTimes = list
            times.reserveCapacity(list.count)
            states.reserveCapacity(list.count * dimension)
        }
    }

    /// The next requested output time not yet recorded, if the schedule asks for times.
    public var nextOutputTime: Double? { pendingOutputTime }

    private var pendingOutputTime: Double? {
        nextRequested < requestedTimes.count ? requestedTimes[nextRequested] : nil
    }

    /// Whether the integrator must report every step (for spikes, every-step or timed output);
    /// when false it may skip building the reported state between the first and the last step.
    public var observesSteps: Bool {
        if !spikeVariables.isEmpty || integrand != nil { return true }
        if case .finalState = schedule { return false }
        return true
    }

    /// Whether the step ending at `t` must be reported with ``observeStep(from:previous:to:current:)``.
    /// It need not be when the recorder keeps only the final state, detects no spikes, and the running
    /// integrand is zero up to `t` (``RunningIntegrand/activeFrom``): then call ``skipStep()`` instead,
    /// which records the same (zero) contribution without building the state. The margin of 1e−6
    /// relative keeps steps that end at the integrand's start up to rounding.
    public func observes(stepEndingAt t: Double) -> Bool {
        guard spikeVariables.isEmpty, case .finalState = schedule else { return true }
        guard let integrand else { return false }
        let start = integrand.activeFrom
        return (t - start) * direction >= -1e-6 * max(1, abs(start))
    }

    /// Counts a step that ``observes(stepEndingAt:)`` said need not be reported.
    public mutating func skipStep() {
        stepCount += 1
    }

    /// True when output time `t` is reached by a step ending at `stepEnd`.
    public func isReached(_ t: Double, by stepEnd: Double) -> Bool {
        (stepEnd - t) * direction >= 0
    }

    /// Records the initial state at `t`: the first output of every-step and timed schedules, and the
    /// starting value of the running integrand. Call once, before the first step.
    public mutating func start(at t: Double, state: UnsafeBufferPointer<Double>) {
        if let integrand {
            lastIntegrand.withUnsafeMutableBufferPointer { integrand.evaluate(t, state, $0) }
        }
        switch schedule {
        case .everyStep:
            append(t, state)
            lastRecordedStep = 0
        case .times:
            while let next = pendingOutputTime, next == t {
                append(t, state)
                nextRequested += 1
            }
        case .finalState:
            break
        }
    }

    /// Records every pending output time that the step from `ta` to `tb` reaches, interpolating
    /// linearly between the step's reported end points in `scratch` (n entries): the output of the
    /// fixed-step schemes, whose accuracy (second order) linear interpolation matches.
    public mutating func recordLinearOutputs(
        from ta: Double, previous: UnsafeBufferPointer<Double>, to tb: Double, current: UnsafeBufferPointer<Double>,
        scratch: UnsafeMutableBufferPointer<Double>
    ) {
        while let tOut = nextOutputTime, isReached(tOut, by: tb) {
            let f = tb == ta ? 1 : (tOut - ta) / (tb - ta)
            for i in 0..<dimension { scratch[i] = previous[i] + f * (current[i] - previous[i]) }
            recordOutput(at: tOut, state: UnsafeBufferPointer(scratch))
        }
    }

    /// Records the (interpolated) state at the pending output time `t`.
    public mutating func recordOutput(at t: Double, state: UnsafeBufferPointer<Double>) {
        append(t, state)
        nextRequested += 1
    }

    /// Spike detection and every-k-step sampling for one accepted step.
    public mutating func observeStep(
        from t0: Double, previous: UnsafeBufferPointer<Double>,
        to t1: Double, current: UnsafeBufferPointer<Double>
    ) {
        stepCount += 1
        if let integrand {
            currentIntegrand.withUnsafeMutableBufferPointer { integrand.evaluate(t1, current, $0) }
            let half = 0.5 * (t1 - t0)
            for i in integrals.indices {
                integrals[i] += half * (lastIntegrand[i] + currentIntegrand[i])
            }
            swap(&lastIntegrand, &currentIntegrand)
        }
        for (k, v) in spikeVariables.enumerated() {
            let a = previous[v], b = current[v]
            if a < spikeThreshold, b >= spikeThreshold {
                let fraction = (spikeThreshold - a) / (b - a)
                spikeTimes[k].append(t0 + fraction * (t1 - t0))
            }
        }
        if case let .everyStep(k) = schedule, stepCount % k == 0 {
            append(t1, current)
            lastRecordedStep = stepCount
        }
    }

    /// Records that event `index` fired at `t`.
    public mutating func recordEvent(_ index: Int, at t: Double) {
        events.append(Solution.Event(index: index, time: t))
    }

    /// Records the final state; every-step schedules also get it as their last sample.
    public mutating func complete(at t: Double, state: UnsafeBufferPointer<Double>) {
        finalTime = t
        finalState = Array(state)
        if case .everyStep = schedule, lastRecordedStep != stepCount {
            append(t, state)
            lastRecordedStep = stepCount
        }
        if case .finalState = schedule {
            append(t, state)
        }
    }

    /// The finished solution; `stateNames` are the model's (``ODESystem/stateNames``).
    public func solution(statistics: SolverStatistics, stateNames: [String]) -> Solution {
        Solution(
            dimension: dimension, stateNames: stateNames, times: times, states: states, spikeVariables: spikeVariables,
            spikeTimes: spikeTimes, events: events, integrals: integrals, finalTime: finalTime,
            finalState: finalState, statistics: statistics)
    }

    private mutating func append(_ t: Double, _ state: UnsafeBufferPointer<Double>) {
        times.append(t)
        states.append(contentsOf: state)
    }
}

/// A vector of running costs r(t, y) whose integrals ∫ r dt over the span a solve accumulates, by
/// the trapezoid rule over the integrator's own steps (second order; for a fixed-step scheme this
/// is exactly the discrete loss that BPTT differentiates).
public struct RunningIntegrand: Sendable {
    /// (t, y, r): writes r(t, y) into the third argument.
    public typealias Function = @Sendable (Double, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    /// Number of integrands.
    public let count: Int
    /// The time before which every r is exactly zero (−∞ when unknown), so that integrators may skip
    /// reporting the steps that end earlier (``TrajectoryRecorder/observes(stepEndingAt:)``).
    public let activeFrom: Double
    /// Writes r(t, y) into the buffer; must not allocate.
    public let evaluate: Function

    /// `count` integrands evaluated by `evaluate`, zero before `activeFrom`.
    public init(count: Int, activeFrom: Double = -.infinity, evaluate: @escaping Function) {
        self.count = count
        self.activeFrom = activeFrom
        self.evaluate = evaluate
    }
}
