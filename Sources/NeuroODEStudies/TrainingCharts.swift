import Foundation
import Gradients

/// The plots of a comparison: the training loss and (where the task has one) the held-out metric,
/// each against iteration and against wall time, one line per method — the mean over runs —
/// with the min–max band over runs shaded.
public struct TrainingCharts {
    public let report: CompareReport

    public func charts() -> [(name: String, chart: LineChart)] {
        let runner = report.runner
        var charts = [
            ("loss-vs-iteration.svg", chart(quantity: \.loss, name: "loss", byTime: false)),
            ("loss-vs-time.svg", chart(quantity: \.loss, name: "loss", byTime: true)),
        ]
        if let metric = runner.testMetric {
            charts.append(("\(metric.name)-vs-iteration.svg", chart(quantity: { $0.testMetric }, name: metric.name, byTime: false)))
            charts.append(("\(metric.name)-vs-time.svg", chart(quantity: { $0.testMetric }, name: metric.name, byTime: true)))
        }
        return charts
    }

    /// One chart of `quantity` (nil where not measured) against iteration or mean wall time.
    private func chart(quantity: (TrainingRecord) -> Double?, name: String, byTime: Bool) -> LineChart {
        var series: [LineChart.Series] = []
        var allPositive = true
        for result in report.results {
            // Runs that stopped early drop out of the mean from where they stopped.
            let length = result.logs.map(\.count).max() ?? 0
            var x: [Double] = [], mean: [Double] = [], low: [Double] = [], high: [Double] = []
            for i in 0..<length {
                let present = result.logs.filter { i < $0.count }
                let values = present.compactMap { quantity($0[i]) }
                guard values.count == present.count else { continue }
                let finite = values.filter(\.isFinite)
                let times = present.map { $0[i].wallTime }
                x.append(byTime ? times.reduce(0, +) / Double(times.count) : Double(i + 1))
                if finite.isEmpty {
                    mean.append(.nan); low.append(.nan); high.append(.nan)
                } else {
                    mean.append(finite.reduce(0, +) / Double(finite.count))
                    low.append(finite.min()!)
                    high.append(finite.max()!)
                }
                allPositive = allPositive && finite.allSatisfy { $0 > 0 }
            }
            let runs = result.logs.count
            series.append(LineChart.Series(
                label: runs > 1 ? "\(result.name) (mean, min–max of \(runs))" : result.name,
                x: x, y: mean, band: runs > 1 ? (low, high) : nil))
        }
        let higherIsBetter = name != "loss" && (report.runner.testMetric?.higherIsBetter ?? false)
        // The task's target on the quantity it is stated for, as a dashed line.
        let target = report.runner.target
        let targetsThis = (target.quantity == .loss) == (name == "loss")
        let reference = targetsThis
            ? [LineChart.ReferenceLine(label: "target \(target.higherIsBetter ? "≥" : "<") \(format(target.threshold))", y: target.threshold)]
            : []
        return LineChart(
            title: "\(report.runner.name)\(report.paper ? " (paper)" : ""): \(name) vs \(byTime ? "wall time" : "iteration") — \(settings)",
            xLabel: byTime ? "wall time (s)" : "iteration", yLabel: "\(name) (\(name == "loss" ? "training, at θ before the update" : "held out"))",
            series: series, yScale: allPositive && !higherIsBetter ? .logarithmic : .linear, referenceLines: reference)
    }

    /// The run's settings for the titles: optimizer, learning rate, seed and runs.
    private var settings: String {
        let runs = report.results.first?.logs.count ?? 0
        return "\(report.optimizer.name) lr \(format(report.optimizer.learningRate)), seed \(report.seed), \(runs) run\(runs == 1 ? "" : "s")"
    }

    /// Sets every stored property.
    public init(report: CompareReport) {
        self.report = report
    }
}
