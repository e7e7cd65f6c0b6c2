import Foundation
import NeuroODE

/// The default picture of a simulation: membrane potentials against time, a spike raster for
/// many neurons, or every state variable for models without a membrane potential.
public enum SimulationPlot {
    public static func make(
        solution: Solution, runner: SimulationRunner, style: PlotDefault, spikeTimes: [[Double]]?,
        maximumVoltageTraces: Int
    ) -> LineChart {
        let timeDomain = solution.times.isEmpty ? nil : solution.times[0]...solution.finalTime
        let voltages = runner.voltageIndices
        guard case .voltages = style, !voltages.isEmpty else {
            var logarithmicTime = false
            if case let .states(logarithmic) = style { logarithmicTime = logarithmic }
            return LineChart(
                title: "\(runner.modelName): state", xLabel: "t", yLabel: "y (a small component × its factor)",
                series: scaledStates(solution: solution, names: runner.stateNames),
                xScale: logarithmicTime ? .logarithmic : .linear,
                xDomain: logarithmicTime ? nil : timeDomain)
        }
        if voltages.count > maximumVoltageTraces, let spikeTimes {
            let x = spikeTimes.flatMap { $0 }
            let y = spikeTimes.enumerated().flatMap { neuron, times in times.map { _ in Double(neuron) } }
            return LineChart(
                title: "\(runner.modelName): spike raster, \(spikeTimes.count) neurons", xLabel: "t (ms)",
                yLabel: "neuron", series: [LineChart.Series(label: "spikes", x: x, y: y, mark: .ticks)],
                xDomain: timeDomain, yDomain: -0.5...(Double(spikeTimes.count) - 0.5))
        }
        let shown = voltages.prefix(maximumVoltageTraces)
        let title = shown.count < voltages.count
            ? "\(runner.modelName): membrane potential (\(shown.count) of \(voltages.count))"
            : "\(runner.modelName): membrane potential"
        return LineChart(
            title: title, xLabel: "t (ms)", yLabel: "V (mV)",
            series: shown.map { j in
                LineChart.Series(label: runner.stateNames[j], x: solution.times, y: solution.component(j))
            },
            xDomain: timeDomain)
    }

    /// Every state variable, a component whose largest magnitude is under 1 % of the largest
    /// one's multiplied by a power of ten that brings it to the same scale and labelled so (ROBER's
    /// y2 ≈ 3.6e-5 next to y1, y3 ≈ 1 becomes "y2 × 1e4"), so that no curve lies flat on the axis.
    public static func scaledStates(solution: Solution, names: [String]) -> [LineChart.Series] {
        let components = names.indices.map { solution.component($0) }
        let largest = components.map { $0.filter(\.isFinite).map(abs).max() ?? 0 }
        let overall = largest.max() ?? 0
        return names.indices.map { j in
            guard largest[j] > 0, overall > 0, largest[j] < 1e-2 * overall else {
                return LineChart.Series(label: names[j], x: solution.times, y: components[j])
            }
            let exponent = Int((log10(overall / largest[j])).rounded(.down))
            let factor = pow(10, Double(exponent))
            return LineChart.Series(label: "\(names[j]) × 1e\(exponent)", x: solution.times, y: components[j].map { $0 * factor })
        }
    }
}
