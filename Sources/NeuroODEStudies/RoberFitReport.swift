import Foundation
import Gradients
import NeuroODE

/// The files and table `rober-fit` produces from its finished runs.
public struct RoberFitReport {
    public let runs: [RoberFitRun]
    public let paper: Bool
    public let seed: UInt64
    public let iterations: Int
    public let optimizer: OptimizerChoice
    /// The problem configuration of each scaling trained.
    public let configurations: [RoberFitTraining.Configuration]

    private var weightDecay: Double? {
        if case let .adam(base) = optimizer, base.weightDecay > 0 { return base.weightDecay }
        return nil
    }

    /// What one run's log amounts to.
    public struct Outcome {
        public var initialLoss: Double?
        public var finalLoss: Double?
        public var bestLoss: Double?
        public var iterationsToTarget: Int?
        public var seconds: Double
        public var status: String

        public init(_ run: RoberFitRun) {
            let finite = run.log.filter { $0.loss.isFinite }
            initialLoss = run.log.first.flatMap { $0.loss.isFinite ? $0.loss : nil }
            finalLoss = finite.last?.loss
            bestLoss = finite.map(\.loss).min()
            iterationsToTarget = run.log.first { run.problem.target.isReached(by: $0) }.map { $0.iteration + 1 }
            seconds = run.log.last?.wallTime ?? 0
            // The failing iteration leaves no record: it is the one after the last logged.
            status = run.failure == nil ? "completed" : "stopped at it \(run.log.count + 1)"
        }
    }

    // MARK: Curves

    /// One row per run and iteration; the loss is at θ before that iteration's update.
    public func curvesCSV() -> String {
        var table = CSVTable(header: ["method", "scaling", "iteration", "wall_s", "loss", "grad_norm", "learning_rate", "event"])
        for run in runs {
            for record in run.log {
                table.appendRow([
                    run.kind.rawValue, run.scaled ? "on" : "off", "\(record.iteration)", CSVTable.number(record.wallTime),
                    CSVTable.number(record.loss), CSVTable.number(record.gradientNorm), CSVTable.number(record.learningRate), record.event ?? "",
                ])
            }
        }
        return table.text
    }

    // MARK: Summary

    /// summary.json (``Provenance/encoder``): the task, its settings and per run its settings,
    /// how it ended, its losses, skips and rollbacks (from the log's outcomes), and θ at its end by
    /// parameter name, with the run's ``Provenance``. Absent values are null.
    public func summaryJSON() -> String {
        Provenance.json(Summary(
            paper: paper, seed: seed, iterations: iterations,
            optimizer: .init(name: optimizer.name, learningRate: optimizer.learningRate, weightDecay: weightDecay),
            target: .init(quantity: "loss", threshold: RoberFitTraining.targetLoss),
            problemConfiguration: Dictionary(uniqueKeysWithValues: configurations.map { ($0.scaled ? "on" : "off", $0) }),
            runs: runs.map(Summary.Run.init), provenance: .current()))
    }

    /// The document summary.json holds.
    struct Summary: Encodable {
        var task = "rober-fit"
        let paper: Bool
        let seed: UInt64
        let iterations: Int
        let optimizer: Optimizer
        let target: Target
        /// Keyed by the scaling, "on" or "off".
        let problemConfiguration: [String: RoberFitTraining.Configuration]
        let runs: [Run]
        let provenance: Provenance

        struct Optimizer: Encodable {
            let name: String
            let learningRate: Double
            let weightDecay: Double?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(name, forKey: .name)
                try container.encode(learningRate, forKey: .learningRate)
                try container.encode(weightDecay, forKey: .weightDecay)
            }

            private enum CodingKeys: String, CodingKey { case name, learningRate, weightDecay }
        }

        struct Target: Encodable {
            let quantity: String
            let threshold: Double
        }

        struct Run: Encodable {
            let method, scaling: String
            let settings: [String: JSONValue]
            let maxGradientNorm: Double?
            let completed: Bool
            let failure: String?
            let iterationsRun: Int
            let initialLoss, finalLoss, bestLoss: Double?
            let iterationsToTarget: Int?
            let wallSeconds: Double
            let skippedIterations, rollbacks: Int
            let fitSolved: Bool
            /// θ at the run's end by parameter name (``RoberFitRun/parameters``).
            let learnedParameters: [String: Double]

            init(_ run: RoberFitRun) {
                let outcome = Outcome(run)
                method = run.kind.rawValue
                scaling = run.scaled ? "on" : "off"
                settings = Dictionary(run.settings.statistics, uniquingKeysWith: { first, _ in first })
                maxGradientNorm = run.loop.maxGradientNorm
                completed = run.failure == nil
                failure = run.failure
                iterationsRun = run.log.count
                (initialLoss, finalLoss, bestLoss) = (outcome.initialLoss, outcome.finalLoss, outcome.bestLoss)
                iterationsToTarget = outcome.iterationsToTarget
                wallSeconds = outcome.seconds
                (skippedIterations, rollbacks) = (run.skipped, run.rollbacks)
                fitSolved = run.trajectory != nil
                learnedParameters = Dictionary(zip(run.problem.parameterNames, run.parameters), uniquingKeysWith: { first, _ in first })
            }

            private enum CodingKeys: String, CodingKey {
                case method, scaling, settings, maxGradientNorm, completed, failure, iterationsRun, initialLoss, finalLoss, bestLoss
                case iterationsToTarget, wallSeconds, skippedIterations, rollbacks, fitSolved, learnedParameters
            }

            /// Every key present, absent values as null.
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(method, forKey: .method)
                try container.encode(scaling, forKey: .scaling)
                try container.encode(settings, forKey: .settings)
                try container.encode(maxGradientNorm, forKey: .maxGradientNorm)
                try container.encode(completed, forKey: .completed)
                try container.encode(failure, forKey: .failure)
                try container.encode(iterationsRun, forKey: .iterationsRun)
                try container.encode(initialLoss, forKey: .initialLoss)
                try container.encode(finalLoss, forKey: .finalLoss)
                try container.encode(bestLoss, forKey: .bestLoss)
                try container.encode(iterationsToTarget, forKey: .iterationsToTarget)
                try container.encode(wallSeconds, forKey: .wallSeconds)
                try container.encode(skippedIterations, forKey: .skippedIterations)
                try container.encode(rollbacks, forKey: .rollbacks)
                try container.encode(fitSolved, forKey: .fitSolved)
                try container.encode(learnedParameters, forKey: .learnedParameters)
            }
        }
    }

    // MARK: Table

    public func table() -> String {
        func format(_ value: Double?) -> String { value.map { String(format: "%.4g", $0) } ?? "–" }
        let samples = configurations.first?.samples ?? 0, sigma = configurations.first?.sigma ?? 0
        let decay = weightDecay.map { " wd \(format($0))" } ?? ""
        var lines = [
            "rober-fit\(paper ? " (paper)" : ""): \(iterations) iterations, seed \(seed), \(optimizer.name) lr \(format(optimizer.learningRate))\(decay), "
                + "ES \(samples) samples σ \(format(sigma)); target loss < \(format(RoberFitTraining.targetLoss))",
        ]
        var rows = [["method", "scaling", "status", "initial loss", "final loss", "best loss", "it to target", "skipped", "rollbacks", "time (s)"]]
        for run in runs {
            let outcome = Outcome(run)
            rows.append([
                run.kind.rawValue, run.scaled ? "on" : "off", outcome.status, format(outcome.initialLoss), format(outcome.finalLoss),
                format(outcome.bestLoss), outcome.iterationsToTarget.map { "\($0)" } ?? "–", "\(run.skipped)", "\(run.rollbacks)",
                String(format: "%.3g", outcome.seconds),
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
        for run in runs {
            if let failure = run.failure { lines.append("\(run.label): \(failure)") }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Charts

    /// Loss against iteration, one line per run, on a log axis, with the target: the whole range
    /// beside a zoom on losses up to 1, since an unscaled network's loss starts some 60 decades
    /// above the scaled ones.
    public func lossChart() -> String {
        var series = runs.map { run in
            LineChart.Series(label: run.label, x: run.log.map { Double($0.iteration + 1) }, y: run.log.map(\.loss))
        }
        series.append(LineChart.Series(
            label: "target \(TrajectoryOutput.number(RoberFitTraining.targetLoss))", x: [1, Double(max(iterations, 2))],
            y: [RoberFitTraining.targetLoss, RoberFitTraining.targetLoss]))
        let whole = LineChart(
            title: "ROBER fit: loss (MAE of y / yscale) vs iteration", xLabel: "iteration", yLabel: "loss",
            series: series, yScale: .logarithmic, width: 640, height: 400)
        var zoom = whole
        zoom.title = "the same, losses from 0.01 to 1"
        zoom.yDomain = 0.01...1
        return Self.panels([whole, zoom], columns: 2)
    }

    /// One panel per run, two columns: the data (ticks) and the fitted trajectory (lines) of each
    /// species divided by its maximum, so y₂ (at most 3.6e-5) shows beside y₁ and y₃, on a log
    /// time axis. The value axis is fixed to [−0.1, 1.2] so a diverged fit does not squash the data.
    public func fitChart() -> String {
        let fit = runs.first?.problem.fit
        let charts: [LineChart] = runs.map { run in
            var series: [LineChart.Series] = []
            let scale = run.problem.fit.speciesScale
            for i in 0..<3 {
                let values = run.trajectory.map { states in RoberFitRun.plotTimes.indices.map { states[3 * $0 + i] / scale[i] } }
                series.append(LineChart.Series(label: "y\(i + 1) fit", x: values == nil ? [] : RoberFitRun.plotTimes, y: values ?? [], colour: i))
            }
            if let fit {
                for i in 0..<3 {
                    series.append(LineChart.Series(
                        label: "y\(i + 1) data", x: fit.times, y: fit.times.indices.map { fit.data[3 * $0 + i] / scale[i] }, mark: .ticks,
                        colour: i))
                }
            }
            let outcome = Outcome(run)
            let loss = outcome.finalLoss.map { String(format: "final loss %.3g", $0) } ?? "no finite loss"
            let ending = run.trajectory == nil ? ", fit solve failed" : run.failure == nil ? "" : ", diverged"
            return LineChart(
                title: "\(run.label): \(loss)\(ending)", xLabel: "t (s)", yLabel: "y / yscale (each species by its own scale)", series: series,
                xScale: .logarithmic, yDomain: -0.1...1.2, width: 640, height: 400)
        }
        return Self.panels(charts, columns: 2)
    }

    /// Charts tiled into one SVG document, row by row. Each chart keeps its own document as a
    /// nested `<svg>`; its clip path is renamed so the ids stay unique.
    public static func panels(_ charts: [LineChart], columns: Int) -> String {
        let width = charts.map(\.width).max() ?? 0, height = charts.map(\.height).max() ?? 0
        let rows = (charts.count + columns - 1) / columns
        let total = (width: width * Double(min(columns, max(charts.count, 1))), height: height * Double(rows))
        var s = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(total.width)" height="\(total.height)" \
            viewBox="0 0 \(total.width) \(total.height)">

            """
        for (k, chart) in charts.enumerated() {
            let document = chart.svg().split(separator: "\n", maxSplits: 1)[1]
                .replacingOccurrences(of: "plot-area", with: "plot-area-\(k)")
            s += "<g transform=\"translate(\(width * Double(k % columns)) \(height * Double(k / columns)))\">\n\(document)</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Sets every stored property.
    public init(runs: [RoberFitRun], paper: Bool, seed: UInt64, iterations: Int, optimizer: OptimizerChoice, configurations: [RoberFitTraining.Configuration]) {
        self.runs = runs
        self.paper = paper
        self.seed = seed
        self.iterations = iterations
        self.optimizer = optimizer
        self.configurations = configurations
    }
}
