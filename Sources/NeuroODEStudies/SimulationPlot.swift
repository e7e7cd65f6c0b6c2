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
                title: "\(runner.modelName): state", xLabel: "t", yLabel: "y",
                series: runner.stateNames.indices.map { j in
                    LineChart.Series(label: runner.stateNames[j], x: solution.times, y: solution.component(j))
                },
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
}
