import Foundation
import NeuroODE
import NeuroODEStudies
import Testing

/// Plots a paper can use: parameters in the titles, the target as a dashed line, the legend off
/// the data, paired colours, and ROBER's y2 lifted into view.
@Suite("charts")
struct ChartTests {
    /// The value of `attribute` in the first element after `marker`.
    static func number(after marker: String, _ attribute: String, in svg: String) throws -> Double {
        let start = try #require(svg.range(of: marker)).upperBound
        let rest = svg[start...]
        let value = try #require(rest.range(of: "\(attribute)=\"")).upperBound
        let end = try #require(rest[value...].firstIndex(of: "\""))
        return try #require(Double(rest[value..<end]))
    }

    @Test func compareChartHasSettingsTargetAndLegendOffTheData() throws {
        let one = try CompareReportTests.report()
        let other = MethodResult(name: "es", statistics: [], logs: one.results[0].logs, finalParameters: [nil, nil], failures: [nil, nil])
        let report = CompareReport(runner: one.runner, paper: false, seed: 7, optimizer: one.optimizer, results: one.results + [other])
        let charts = TrainingCharts(report: report).charts()
        let loss = try #require(charts.first { $0.name == "loss-vs-iteration.svg" }).chart
        #expect(loss.title.contains("adam lr 0.1, seed 7, 2 runs"), "\(loss.title)")
        #expect(loss.referenceLines.map(\.y) == [report.runner.target.threshold])
        let svg = loss.svg()
        #expect(svg.contains("stroke-dasharray=\"6 4\"") && svg.contains("target &lt; 0.001"))
        // The plot area's right edge lies left of the legend box.
        let plotX = try Self.number(after: "<clipPath id=\"plot-area\"><rect", "x", in: svg)
        let plotWidth = try Self.number(after: "<clipPath id=\"plot-area\"><rect", "width", in: svg)
        let legendX = try Self.number(after: "<g>\n<rect", "x", in: svg)
        #expect(legendX >= plotX + plotWidth, "legend at \(legendX), plot ends at \(plotX + plotWidth)")
    }

    @Test func seriesShareAColourWhenAsked() {
        let chart = LineChart(title: "t", xLabel: "x (s)", yLabel: "y (m)", series: [
            .init(label: "fit", x: [0, 1], y: [0, 1], colour: 2), .init(label: "data", x: [0, 1], y: [0, 1], mark: .ticks, colour: 2),
        ])
        let svg = chart.svg()
        let colour = LineChart.palette[2]
        #expect(svg.components(separatedBy: "stroke=\"\(colour)\"").count - 1 == 4, "two data paths and two legend lines")
    }

    /// ROBER's y2 (at most about 3.65e-5, against y1 and y3 of order 1) is drawn × 1e4; the
    /// others are drawn as they are.
    @Test func roberSmallComponentIsScaledAndLabelled() throws {
        let solution = try CVODE(method: .bdf, relativeTolerance: 1e-6, absoluteTolerance: 1e-12)
            .solve(ODEProblem(system: Rober(), timeSpan: (0, 1e3)), output: .times([0, 1e-3, 1, 1e3]), spikes: nil)
        let series = SimulationPlot.scaledStates(solution: solution, names: ["y1", "y2", "y3"])
        #expect(series.map(\.label) == ["y1", "y2 × 1e4", "y3"])
        #expect(zip(series[1].y, solution.component(1)).allSatisfy { $0 == $1 * 1e4 })
        #expect(series[0].y == solution.component(0))
    }
}
