import NeuroODE

/// A finished simulation in the two file formats `simulate` writes.
///
/// Numbers are written with Swift's shortest round-trip representation: parsing a written value
/// gives back exactly the Double that was computed, so files can serve as references.
public struct TrajectoryOutput {
    public let model: String
    public let integrator: String
    public let stateNames: [String]
    public let solution: Solution
    /// One array of spike times per neuron, or `nil` when spikes were not asked for.
    public let spikeTimes: [[Double]]?
    /// Seconds spent in the solve.
    public let wallTime: Double

    /// Header `t,<state names>`, then one row per output time.
    public func csv() -> String {
        var table = CSVTable(header: ["t"] + stateNames, reservingRows: solution.times.count)
        for (i, t) in solution.times.enumerated() {
            table.appendRow(numbers: [t] + solution.state(at: i))
        }
        return table.text
    }

    /// Spike times as rows `neuron,t`, neurons numbered from 0 and each neuron's spikes in order.
    public static func spikesCSV(_ spikeTimes: [[Double]]) -> String {
        var table = CSVTable(header: ["neuron", "t"])
        for (neuron, times) in spikeTimes.enumerated() {
            for t in times { table.appendRow(["\(neuron)", CSVTable.number(t)]) }
        }
        return table.text
    }

    /// One JSON document (``Provenance/encoder``): `model`, `integrator`, `stateNames`, `t`, `y`
    /// (one state vector per output time), `spikes` (when asked for: one array of times per
    /// neuron), `stats` (the solver's counters and `wallTimeSeconds`) and `provenance`.
    public func json(provenance: Provenance) -> String {
        Provenance.json(Document(
            model: model, integrator: integrator, stateNames: stateNames, t: solution.times,
            y: solution.times.indices.map { Array(solution.state(at: $0)) }, spikes: spikeTimes,
            stats: Statistics(solver: solution.statistics, wallTimeSeconds: wallTime), provenance: provenance))
    }

    private struct Document: Encodable {
        let model, integrator: String
        let stateNames: [String]
        let t: [Double]
        let y: [[Double]]
        let spikes: [[Double]]?
        let stats: Statistics
        let provenance: Provenance
    }

    /// Every counter of ``SolverStatistics`` by its field name, so new counters appear unasked,
    /// and the solve's wall time in seconds.
    private struct Statistics: Encodable {
        let solver: SolverStatistics
        let wallTimeSeconds: Double

        private enum CodingKeys: String, CodingKey { case wallTimeSeconds }

        func encode(to encoder: any Encoder) throws {
            try solver.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(wallTimeSeconds, forKey: .wallTimeSeconds)
        }
    }

    /// The shortest decimal text that parses back to exactly `value`.
    public static func number(_ value: Double) -> String {
        CSVTable.number(value)
    }

    /// A JSON string literal.
    public static func string(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20: text += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "\""
    }

    /// Sets every stored property.
    public init(model: String, integrator: String, stateNames: [String], solution: Solution, spikeTimes: [[Double]]?, wallTime: Double) {
        self.model = model
        self.integrator = integrator
        self.stateNames = stateNames
        self.solution = solution
        self.spikeTimes = spikeTimes
        self.wallTime = wallTime
    }
}
