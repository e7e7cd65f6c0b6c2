import Foundation
import Gradients

/// One method's logs over every run of a comparison.
public struct MethodResult {
    /// The method's command-line name.
    public let name: String
    /// The settings that shaped it, for the summary.
    public let statistics: [(key: String, value: JSONValue)]
    public let clip: Double?
    /// One log per run, each one row per iteration.
    public let logs: [[TrainingRecord]]
    /// θ at the end of each run (nil: the run stopped early).
    public var finalParameters: [[Double]?] = []
    /// Why each run stopped early (nil: it completed); empty when every run completed.
    public var failures: [String?] = []

    /// A gradient method's result.
    public init(
        kind: GradientMethodKind, settings: GradientMethodSettings, clip: Double?, logs: [[TrainingRecord]],
        finalParameters: [[Double]?] = [], failures: [String?] = []
    ) {
        name = kind.rawValue
        statistics = settings.statistics
        self.clip = clip
        self.logs = logs
        self.finalParameters = finalParameters
        self.failures = failures
    }

    /// A population method's result (CMA-ES: no gradient, so no clipping).
    public init(name: String, statistics: [(key: String, value: JSONValue)], logs: [[TrainingRecord]], finalParameters: [[Double]?], failures: [String?]) {
        self.name = name
        self.statistics = statistics
        clip = nil
        self.logs = logs
        self.finalParameters = finalParameters
        self.failures = failures
    }

    /// (run, reason) of every run that stopped early.
    public var stoppedRuns: [(run: Int, reason: String)] {
        failures.enumerated().compactMap { run, reason in reason.map { (run, $0) } }
    }
}

/// Mean, standard deviation (n − 1; 0 for one value), minimum and maximum of some runs' values.
public struct Spread: Encodable {
    public let mean: Double, sd: Double, min: Double, max: Double, count: Int

    public init?(_ values: [Double]) {
        let finite = values.filter(\.isFinite)
        guard !finite.isEmpty else { return nil }
        count = finite.count
        let average = finite.reduce(0, +) / Double(finite.count)
        mean = average
        sd = count > 1 ? (finite.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(finite.count - 1)).squareRoot() : 0
        min = finite.min()!
        max = finite.max()!
    }

    enum CodingKeys: String, CodingKey {
        case mean, sd, min, max
        case count = "runs"
    }

    /// "0.1234 ± 0.0012" (the ± part only over several runs).
    public var text: String {
        count > 1 ? "\(format(mean)) ± \(format(sd))" : format(mean)
    }
}

func format(_ value: Double) -> String { String(format: "%.4g", value) }

/// The files and table `compare` produces.
public struct CompareReport {
    public let runner: TrainingRunner
    public let paper: Bool
    public let seed: UInt64
    public let optimizer: OptimizerChoice
    public let results: [MethodResult]

    private var metricName: String? { runner.testMetric?.name }

    /// Writes curves.csv, summary.json and the plots as one result set (``DiagnosticFiles``, with
    /// its manifest); returns the paths written.
    public func write(to directory: String) throws(CommandLineError) -> [String] {
        var files = try DiagnosticFiles(directory: directory)
        try files.write(curvesCSV(), to: "curves.csv")
        try files.write(summaryJSON(), to: "summary.json")
        for chart in TrainingCharts(report: self).charts() { try files.write(chart.chart.svg(), to: chart.name) }
        return try files.commit()
    }

    // MARK: Curves

    /// One row per method, run and iteration. Empty fields: not measured at that iteration.
    public func curvesCSV() -> String {
        var table = CSVTable(header: [
            "method", "run", "iteration", "wall_s", "loss", "test_metric", "grad_norm", "learning_rate", "bytes_stored", "peak_bytes", "event",
        ])
        for result in results {
            for (run, log) in result.logs.enumerated() {
                for record in log {
                    table.appendRow([
                        result.name, "\(run)", "\(record.iteration)", CSVTable.number(record.wallTime),
                        CSVTable.number(record.loss), CSVTable.number(record.testMetric),
                        CSVTable.number(record.gradientNorm), CSVTable.number(record.learningRate),
                        "\(record.bytesStored)", record.peakBytes.map { "\($0)" } ?? "", record.event ?? "",
                    ])
                }
            }
        }
        return table.text
    }

    // MARK: Summary

    /// Per-method statistics of one run's log.
    public struct RunStatistics {
        public var finalLoss: Double
        public var bestLoss: Double
        public var finalMetric: Double?
        public var bestMetric: Double?
        public var iterationsToTarget: Int?
        public var secondsToTarget: Double?
        public var seconds: Double
        public var peakBytes: Int?
        public var bytesStored: Int
        public var skipped: Int
        public var rollbacks: Int

        /// Sets every stored property.
        public init(finalLoss: Double, bestLoss: Double, finalMetric: Double? = nil, bestMetric: Double? = nil, iterationsToTarget: Int? = nil, secondsToTarget: Double? = nil, seconds: Double, peakBytes: Int? = nil, bytesStored: Int, skipped: Int, rollbacks: Int) {
            self.finalLoss = finalLoss
            self.bestLoss = bestLoss
            self.finalMetric = finalMetric
            self.bestMetric = bestMetric
            self.iterationsToTarget = iterationsToTarget
            self.secondsToTarget = secondsToTarget
            self.seconds = seconds
            self.peakBytes = peakBytes
            self.bytesStored = bytesStored
            self.skipped = skipped
            self.rollbacks = rollbacks
        }
    }

    public func statistics(_ log: [TrainingRecord]) -> RunStatistics {
        let losses = log.map(\.loss).filter(\.isFinite)
        let metrics = log.compactMap(\.testMetric).filter(\.isFinite)
        let better: (Double, Double) -> Bool = (runner.testMetric?.higherIsBetter ?? false) ? { $0 > $1 } : { $0 < $1 }
        let reached = log.first { runner.target.isReached(by: $0) }
        return RunStatistics(
            finalLoss: log.last(where: { $0.loss.isFinite })?.loss ?? .nan, bestLoss: losses.min() ?? .nan,
            finalMetric: log.last(where: { $0.testMetric != nil })?.testMetric,
            bestMetric: metrics.reduce(nil) { best, value in best.map { better(value, $0) ? value : $0 } ?? value },
            iterationsToTarget: reached.map { $0.iteration + 1 }, secondsToTarget: reached?.wallTime,
            seconds: log.last?.wallTime ?? 0, peakBytes: log.compactMap(\.peakBytes).max(),
            bytesStored: log.map(\.bytesStored).max() ?? 0,
            skipped: log.filter(\.skippedUpdate).count, rollbacks: log.filter { $0.outcome == .rolledBack }.count)
    }

    /// summary.json: the task, its resolved configuration, and per method its settings, the
    /// spread of its results over runs and each run's learned θ by name, with the run's
    /// ``Provenance``.
    public func summaryJSON() -> String {
        Provenance.json(summary())
    }

    /// The summary as a document.
    public func summary() -> Summary {
        let target = runner.target
        return Summary(
            task: runner.name, paper: paper, problemConfiguration: AnyEncodable(runner.configuration),
            parameters: runner.parameterCount, parameterNames: runner.parameterNames, seed: seed,
            runs: results.first?.logs.count ?? 0, iterations: results.flatMap(\.logs).map(\.count).max() ?? 0,
            optimizer: .init(name: optimizer.name, learningRate: optimizer.learningRate), testMetric: metricName,
            target: .init(quantity: target.quantity == .loss ? "loss" : metricName ?? "testMetric", threshold: target.threshold, higherIsBetter: target.higherIsBetter),
            methods: results.map(methodSummary), provenance: .current())
    }

    private func methodSummary(_ result: MethodResult) -> Summary.Method {
        let runs = result.logs.map(statistics)
        func spread(_ values: [Double?]) -> Spread? { Spread(values.compactMap { $0 }) }
        let names = runner.parameterNames
        return Summary.Method(
            method: result.name, settings: Dictionary(result.statistics.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }),
            maxGradientNorm: result.clip, finalLoss: spread(runs.map(\.finalLoss)), bestLoss: spread(runs.map(\.bestLoss)),
            hasMetric: metricName != nil, finalTestMetric: spread(runs.map(\.finalMetric)), bestTestMetric: spread(runs.map(\.bestMetric)),
            runsReachingTarget: runs.filter { $0.iterationsToTarget != nil }.count, iterationsToTarget: runs.map(\.iterationsToTarget),
            secondsToTarget: runs.map(\.secondsToTarget), wallSeconds: spread(runs.map(\.seconds)),
            peakBytes: runs.compactMap(\.peakBytes).max(), bytesStored: runs.map(\.bytesStored).max() ?? 0,
            skippedIterations: runs.map(\.skipped).reduce(0, +), rollbacks: runs.map(\.rollbacks).reduce(0, +),
            stoppedRuns: result.stoppedRuns.map { .init(run: $0.run, reason: $0.reason) },
            learnedParameters: result.finalParameters.map { theta in
                theta.map { values in Dictionary(zip(names, values).map { ($0, $1) }, uniquingKeysWith: { first, _ in first }) }
            })
    }

    // MARK: Table

    public func table() -> String {
        let runCount = results.first?.logs.count ?? 0
        let iterations = results.flatMap(\.logs).map(\.count).max() ?? 0
        let target = runner.target
        let quantity = target.quantity == .loss ? "loss" : metricName ?? "test metric"
        var lines = ["\(runner.name)\(paper ? " (paper)" : ""): \(iterations) iterations × \(runCount) run\(runCount == 1 ? "" : "s"), seed \(seed), \(optimizer.name) lr \(format(optimizer.learningRate)); target \(quantity) \(target.higherIsBetter ? "≥" : "<") \(format(target.threshold))"]
        var header = ["method", "final loss", "best loss"]
        if let metricName { header += ["final \(metricName)", "best \(metricName)"] }
        header += ["reached", "it to target", "s to target", "stored", "peak memory", "time (s)"]
        var rows = [header]
        for result in results {
            let runs = result.logs.map(statistics)
            func show(_ values: [Double?]) -> String { Spread(values.compactMap { $0 }).map(\.text) ?? "–" }
            var row = [result.name, show(runs.map(\.finalLoss)), show(runs.map(\.bestLoss))]
            if metricName != nil { row += [show(runs.map(\.finalMetric)), show(runs.map(\.bestMetric))] }
            let reached = runs.filter { $0.iterationsToTarget != nil }
            row += [
                "\(reached.count)/\(runs.count)",
                show(reached.map { $0.iterationsToTarget.map(Double.init) }),
                show(reached.map(\.secondsToTarget)),
                bytes(runs.map(\.bytesStored).max()),
                bytes(runs.compactMap(\.peakBytes).max()),
                show(runs.map(\.seconds)),
            ]
            rows.append(row)
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces))
        }
        for result in results {
            for stop in result.stoppedRuns {
                lines.append("\(result.name) run \(stop.run + 1) stopped after \(result.logs[stop.run].count) iterations: \(stop.reason)")
            }
        }
        return lines.joined(separator: "\n")
    }

    private func bytes(_ value: Int?) -> String {
        guard let value else { return "–" }
        let units = ["B", "kB", "MB", "GB"]
        var size = Double(value), unit = 0
        while size >= 1000, unit < units.count - 1 {
            size /= 1000
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f", size) + " " + units[unit]
    }

    /// Sets every stored property.
    public init(runner: TrainingRunner, paper: Bool, seed: UInt64, optimizer: OptimizerChoice, results: [MethodResult]) {
        self.runner = runner
        self.paper = paper
        self.seed = seed
        self.optimizer = optimizer
        self.results = results
    }
}
