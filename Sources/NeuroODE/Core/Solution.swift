/// The result of a solve: sampled trajectory, spike times, events, final state and statistics.
///
/// `Codable`, so a solve can be stored and read back exactly (JSON keeps every bit of a finite
/// double); decoding checks that the arrays fit together and names the field that does not.
/// ``subscript(_:)`` gives a state variable's series by its name in the model.
public struct Solution: Sendable, Codable {
    /// An event that fired: which event function and when.
    public struct Event: Sendable, Equatable, Codable {
        /// The index of the event function that crossed zero (see ``EventSystem``).
        public var index: Int
        /// The time the event fired, as located by the integrator.
        public var time: Double
    }

    /// The state dimension n.
    public let dimension: Int
    /// The model's names of the n state variables (``ODESystem/stateNames``).
    public internal(set) var stateNames: [String]
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

    /// The trajectory of the state variable called `name` across the output times
    /// (`solution["v"]`), or nil when the model has no state of that name.
    public subscript(_ name: String) -> [Double]? {
        stateNames.firstIndex(of: name).map(component)
    }

    init(
        dimension: Int, stateNames: [String], times: [Double], states: [Double], spikeVariables: [Int], spikeTimes: [[Double]],
        events: [Event], integrals: [Double], finalTime: Double, finalState: [Double], statistics: SolverStatistics
    ) {
        self.dimension = dimension
        self.stateNames = stateNames
        self.times = times
        self.states = states
        self.spikeVariables = spikeVariables
        self.spikeTimes = spikeTimes
        self.events = events
        self.integrals = integrals
        self.finalTime = finalTime
        self.finalState = finalState
        self.statistics = statistics
    }

    private enum CodingKeys: String, CodingKey {
        case dimension, stateNames, times, states, spikeVariables, spikeTimes, events, integrals, finalTime, finalState, statistics
    }

    /// Decodes a solution, refusing one whose arrays do not fit its dimension and output times.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            dimension: try container.decode(Int.self, forKey: .dimension),
            stateNames: try container.decode([String].self, forKey: .stateNames),
            times: try container.decode([Double].self, forKey: .times),
            states: try container.decode([Double].self, forKey: .states),
            spikeVariables: try container.decode([Int].self, forKey: .spikeVariables),
            spikeTimes: try container.decode([[Double]].self, forKey: .spikeTimes),
            events: try container.decode([Event].self, forKey: .events),
            integrals: try container.decode([Double].self, forKey: .integrals),
            finalTime: try container.decode(Double.self, forKey: .finalTime),
            finalState: try container.decode([Double].self, forKey: .finalState),
            statistics: try container.decode(SolverStatistics.self, forKey: .statistics))
        let checks: [(CodingKeys, Bool, String)] = [
            (.dimension, dimension >= 1, "must be at least 1"),
            (.stateNames, stateNames.count == dimension, "has \(stateNames.count) names for dimension \(dimension)"),
            (.states, states.count == times.count * dimension, "has \(states.count) values for \(times.count) times × dimension \(dimension)"),
            (.finalState, finalState.count == dimension, "has \(finalState.count) values for dimension \(dimension)"),
            (.spikeTimes, spikeTimes.count == spikeVariables.count, "has \(spikeTimes.count) lists for \(spikeVariables.count) spike variables"),
            (.spikeVariables, spikeVariables.allSatisfy { (0..<dimension).contains($0) }, "holds an index outside 0..<\(dimension)"),
        ]
        if let (key, _, reason) = checks.first(where: { !$0.1 }) {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "\(key.stringValue) \(reason)")
        }
    }
}
