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
        var text = "t," + stateNames.joined(separator: ",") + "\n"
        text.reserveCapacity(solution.times.count * (solution.dimension + 1) * 20)
        for (i, t) in solution.times.enumerated() {
            text += Self.number(t)
            for value in solution.state(at: i) {
                text += ","
                text += Self.number(value)
            }
            text += "\n"
        }
        return text
    }

    /// Spike times as rows `neuron,t`, neurons numbered from 0 and each neuron's spikes in order.
    public static func spikesCSV(_ spikeTimes: [[Double]]) -> String {
        var text = "neuron,t\n"
        for (neuron, times) in spikeTimes.enumerated() {
            for t in times {
                text += "\(neuron),\(number(t))\n"
            }
        }
        return text
    }

    /// One JSON object: `model`, `integrator`, `stateNames`, `t`, `y` (one state vector per output
    /// time), `spikes` (when asked for: one array of times per neuron) and `stats` (the solver's
    /// counters and `wallTimeSeconds`).
    public func json() -> String {
        var text = "{\n"
        text += "  \"model\": \(Self.string(model)),\n"
        text += "  \"integrator\": \(Self.string(integrator)),\n"
        text += "  \"stateNames\": [\(stateNames.map(Self.string).joined(separator: ", "))],\n"
        text += "  \"t\": \(Self.array(solution.times)),\n"
        text += "  \"y\": [\n"
        for i in solution.times.indices {
            text += "    " + Self.array(solution.state(at: i))
            text += i + 1 < solution.times.count ? ",\n" : "\n"
        }
        text += "  ],\n"
        if let spikeTimes {
            text += "  \"spikes\": [\n"
            text += spikeTimes.map { "    " + Self.array($0) }.joined(separator: ",\n")
            text += spikeTimes.isEmpty ? "  ],\n" : "\n  ],\n"
        }
        text += "  \"stats\": {"
        // Every counter of SolverStatistics, by its field name, so new counters appear unasked.
        let counters = Mirror(reflecting: solution.statistics).children.compactMap { child -> String? in
            guard let label = child.label else { return nil }
            return "\(Self.string(label)): \(child.value)"
        }
        text += (counters + ["\"wallTimeSeconds\": \(Self.number(wallTime))"]).joined(separator: ", ")
        text += "}\n}\n"
        return text
    }

    /// The shortest decimal text that parses back to exactly `value`.
    public static func number(_ value: Double) -> String {
        value.description
    }

    private static func array<C: Collection<Double>>(_ values: C) -> String {
        "[" + values.map(number).joined(separator: ", ") + "]"
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
