/// The result of a solve: sampled trajectory, spike times, events, final state and statistics.
public struct Solution: Sendable {
    /// An event that fired: which event function and when.
    public struct Event: Sendable, Equatable, Codable {
        /// The index of the event function that crossed zero (see ``EventSystem``).
        public var index: Int
        /// The time the event fired, as located by the integrator.
        public var time: Double
    }

    /// The state dimension n.
    public let dimension: Int
    /// Output times, in the order they were reached.
    public internal(set) var times: [Double]
    /// Row-major `times.count × dimension` block of states.
    public internal(set) var states: [Double]
    /// The watched variables (see ``SpikeDetection``), in the order of ``spikeTimes``.
    public internal(set) var spikeVariables: [Int]
    /// One array of upward-crossing times per watched variable.
    public internal(set) var spikeTimes: [[Double]]
    /// Every event that fired, in order (``EventSystem`` models).
    public internal(set) var events: [Event]
    /// ∫ r(t, y) dt for each running integrand passed to the solve (empty without one).
    public internal(set) var integrals: [Double]
    /// The time the solve ended at (the end of the span).
    public internal(set) var finalTime: Double
    /// The state at ``finalTime``, whatever the output schedule.
    public internal(set) var finalState: [Double]
    /// The integrator's work counters.
    public internal(set) var statistics: SolverStatistics

    /// The state at output index `i`.
    public func state(at i: Int) -> ArraySlice<Double> {
        states[(i * dimension)..<((i + 1) * dimension)]
    }

    /// The trajectory of one state variable across the output times.
    public func component(_ j: Int) -> [Double] {
        (0..<times.count).map { states[$0 * dimension + j] }
    }
}
