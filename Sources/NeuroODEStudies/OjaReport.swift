import Foundation
import Gradients
import NeuroODE

/// What `compare oja` adds to the common output (Validation/REPRODUCTION.md "Oja"):
///
/// - `rules.csv`: every run's learned rule A, its distance to Oja's rule up to the family's
///   symmetries (``OjaTraining/distanceToOja(_:)``) and its final meta-loss;
/// - `landscape.csv` and `landscape.svg`: the meta-loss along the line from the run's random
///   rule A₀ ~ N(0, 0.1²) (α = 0; ``OjaTraining/randomRule(seed:)``) to Oja's rule (α = 1), averaged over four inner runs, as in
///   Confavreux et al. (2020), Fig. S1B; α where an inner run fails (an unstable rule) is marked;
/// - a table: per method, the runs that reached Oja's rule (distance < 0.3) and the distances.
public struct OjaReport {
    public let problem: OjaTraining
    public let results: [MethodResult]
    public let seed: UInt64

    public func write(to directory: String) throws -> (files: [String], text: String) {
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let landscape = try problem.landscape(from: problem.randomRule(seed: seed), seed: seed)
        let files = [
            (path("rules.csv"), rulesCSV()),
            (path("landscape.csv"), landscapeCSV(landscape)),
            (path("landscape.svg"), landscapeChart(landscape).svg()),
        ]
        for (file, text) in files {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
            } catch {
                throw CommandLineError.cannotWrite(path: file, reason: error.localizedDescription)
            }
        }
        return (files.map(\.0), table(landscape))
    }

    public func rulesCSV() -> String {
        var table = CSVTable(header: ["method", "run", "oja_distance", "final_loss"] + PlasticRateNetwork.parameterNamesOfRule)
        for result in results {
            for (run, final) in result.finalParameters.enumerated() {
                guard let rule = final else { continue }  // the run stopped early
                let loss = result.logs[run].last(where: { $0.loss.isFinite })?.loss ?? .nan
                table.appendRow([result.name, "\(run)", CSVTable.number(OjaTraining.distanceToOja(rule)), CSVTable.number(loss)] + rule.map(CSVTable.number))
            }
        }
        return table.text
    }

    public func landscapeCSV(_ points: [(alpha: Double, loss: Double?)]) -> String {
        var table = CSVTable(header: ["alpha", "meta_loss", "stable"])
        for point in points { table.appendRow([CSVTable.number(point.alpha), CSVTable.number(point.loss), point.loss == nil ? "0" : "1"]) }
        return table.text
    }

    public func landscapeChart(_ points: [(alpha: Double, loss: Double?)]) -> LineChart {
        let finite = points.compactMap(\.loss)
        let top = finite.max() ?? 1
        var series = [LineChart.Series(label: "meta-loss (mean of 4 inner runs)", x: points.map(\.alpha), y: points.map { $0.loss ?? .nan })]
        let unstable = points.filter { $0.loss == nil }
        if !unstable.isEmpty {
            series.append(LineChart.Series(
                label: "unstable rule (inner run failed)", x: unstable.map(\.alpha), y: unstable.map { _ in top }, mark: .ticks))
        }
        return LineChart(
            title: "oja, N = \(problem.configuration.inputs): meta-loss from a random rule (α = 0) to Oja's (α = 1)",
            xLabel: "α", yLabel: "meta-loss", series: series, yScale: finite.allSatisfy { $0 > 0 } ? .logarithmic : .linear)
    }

    public func table(_ landscape: [(alpha: Double, loss: Double?)]) -> String {
        var lines = ["oja, N = \(problem.configuration.inputs): distance of the learned rule to Oja's (up to scale and sign flips; 0 = Oja, target < 0.3)"]
        var rows = [["method", "runs at Oja", "distance (mean)", "min", "max", "largest coefficients of the best run (÷ the largest)"]]
        for result in results {
            let finished = result.finalParameters.compactMap { $0 }
            let distances = finished.map(OjaTraining.distanceToOja)
            guard let best = distances.indices.min(by: { distances[$0] < distances[$1] }) else {
                rows.append([result.name, "0/0 (every run stopped)", "–", "–", "–", "–"])
                continue
            }
            let rule = finished[best]
            let scale = rule.map(abs).max() ?? 0
            let largest = scale == 0 ? ["all zero"] : rule.indices.sorted { abs(rule[$0]) > abs(rule[$1]) }.prefix(3)
                .map { "\(PlasticRateNetwork.parameterNamesOfRule[$0]) \(String(format: "%+.2f", rule[$0] / scale))" }
            rows.append([
                result.name, "\(distances.filter { $0 < problem.target.threshold }.count)/\(distances.count)",
                String(format: "%.3f", distances.reduce(0, +) / Double(distances.count)),
                String(format: "%.3f", distances.min()!), String(format: "%.3f", distances.max()!),
                largest.joined(separator: ", "),
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
        let stable = landscape.filter { $0.loss != nil }.count
        lines.append("landscape: \(stable)/\(landscape.count) points on α ∈ [−0.5, 1.5] stable; meta-loss at A₀ \(format(landscape, 0)), at Oja \(format(landscape, 1))")
        return lines.joined(separator: "\n")
    }

    private func format(_ points: [(alpha: Double, loss: Double?)], _ alpha: Double) -> String {
        guard let point = points.min(by: { abs($0.alpha - alpha) < abs($1.alpha - alpha) }), let loss = point.loss else { return "unstable" }
        return String(format: "%.4g", loss)
    }

    /// Sets every stored property.
    public init(problem: OjaTraining, results: [MethodResult], seed: UInt64) {
        self.problem = problem
        self.results = results
        self.seed = seed
    }
}
