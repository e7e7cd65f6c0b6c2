import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode landscape turn-off`: the turn-off loss along I, its Gaussian-smoothed version (what
/// ES descends) and every method's gradient there, as a CSV table and two SVG charts.
struct LandscapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "landscape",
        abstract: "The loss along one parameter, its Gaussian-smoothed version and each method's gradient.",
        discussion: """
            Task: turn-off (Morris–Lecar hopf started on its I = 100 cycle, leapfrog dt = 0.1 ms), scanned along I. \
            The smoothed loss E[L(I + σε)] and its slope (the gradient ES estimates) are Gauss–Hermite sums over \
            --nodes loss evaluations per point. Methods: \(Self.methodNames.joined(separator: ", ")). ES uses the same \
            seeded noise at every point. Evaluations run in parallel on --threads workers; the result does not \
            depend on their number. Every option can also come from --config FILE.json (keys: the option names \
            without dashes); flags override the file. Writes landscape.csv, landscape-loss.svg and \
            landscape-gradient.svg to --out.
            """)

    static let methodNames = ["bptt", "adjoint-partial", "adjoint-full", "es", "fd"]

    @Argument(help: "The task: turn-off.")
    var task: String

    @Option(parsing: .unconditional, help: "First value of I (default 80).") var from: Double?
    @Option(parsing: .unconditional, help: "Last value of I (default 120).") var to: Double?
    @Option(parsing: .unconditional, help: "Number of points, evenly spaced (default 41).") var points: Int?
    @Option(parsing: .unconditional, help: "Horizon τ in ms (default 3000).") var horizon: Double?
    @Option(parsing: .unconditional, help: "Leapfrog step in ms (default 0.1).") var dt: Double?
    @Option(parsing: .unconditional, help: "Smoothing and ES scale σ in µA/cm² (default 1).") var sigma: Double?
    @Option(parsing: .unconditional, help: "Gauss–Hermite nodes per point (default 32).") var nodes: Int?
    @Option(help: ArgumentHelp("Comma-separated gradient methods (default bptt,adjoint-partial,es,fd).", valueName: "list"))
    var methods: String?
    @Option(parsing: .unconditional, help: "ES samples, mirrored (default 100).") var samples: Int?
    @Option(help: "ES seed (default 0).") var seed: UInt64?
    @Option(parsing: .unconditional, help: "Worker threads (default: every core).") var threads: Int?
    @Option(help: ArgumentHelp("Output directory (default out/landscape).", valueName: "dir")) var out: String?
    @OptionGroup var configOption: ConfigOption

    func run() throws {
        guard task == "turn-off" else { throw CommandLineError.unknownName(kind: "task", name: task, choices: ["turn-off"]) }
        let from = self.from ?? 80
        let to = self.to ?? 120
        let points = self.points ?? 41
        let horizon = self.horizon ?? 3000
        let dt = self.dt ?? 0.1
        let sigma = self.sigma ?? 1
        let nodes = self.nodes ?? 32
        let methodList = methods ?? "bptt,adjoint-partial,es,fd"
        let samples = self.samples ?? 100
        let seedValue = seed.map { Int(truncatingIfNeeded: $0) } ?? 0
        let threads = self.threads ?? Parallelism.defaultThreadCount
        let out = self.out ?? "out/landscape"

        guard from.isFinite, to.isFinite, from < to else {
            throw CommandLineError.invalidValue(option: "--from/--to", value: "\(from)...\(to)", reason: "need finite values with from < to")
        }
        guard points >= 2 else { throw CommandLineError.invalidValue(option: "--points", value: "\(points)", reason: "need at least 2") }
        guard horizon.isFinite, horizon > 0 else {
            throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "the horizon (ms) must be finite and positive")
        }
        guard dt.isFinite, dt > 0, dt <= horizon else {
            throw CommandLineError.invalidValue(option: "--dt", value: "\(dt)", reason: "the step must be finite, positive and at most the horizon")
        }
        guard sigma.isFinite, sigma > 0 else { throw CommandLineError.invalidValue(option: "--sigma", value: "\(sigma)", reason: "must be finite and positive") }
        guard (1...GaussHermiteRule.maximumOrder).contains(nodes) else {
            throw CommandLineError.invalidValue(option: "--nodes", value: "\(nodes)", reason: "must be in 1...\(GaussHermiteRule.maximumOrder)")
        }
        guard seedValue >= 0 else { throw CommandLineError.invalidValue(option: "--seed", value: "\(seedValue)", reason: "must not be negative") }
        guard threads >= 1 else { throw CommandLineError.invalidValue(option: "--threads", value: "\(threads)", reason: "need at least 1") }
        let kinds = try Self.methodKinds(methodList)
        let chosen = kinds.map { kind -> any GradientMethod in
            switch kind {
            case .es: EvolutionStrategy(samples: samples, sigma: sigma, seed: UInt64(seedValue), threads: 1)
            case .fd: FiniteDifferences(threads: 1)
            default: GradientMethodSettings(kind: kind).method()
            }
        }
        if kinds.contains(.es) { try EvolutionStrategy(samples: samples, sigma: sigma).validate() }
        // Sizes and step counts before any work (README "Resource limits").
        do {
            _ = try FixedStepCount.covering(span: horizon, stepSize: dt)
        } catch {
            throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "\(error)")
        }
        var estimate = MemoryEstimate()
        RunEstimate.turnOff(&estimate, horizon: horizon, stepSize: dt, kinds: kinds)
        estimate.add("the points' losses and gradients", option: "--points", value: points,
                     doubles: 4 * Double(points) * Double(nodes + kinds.count + 4))
        RunEstimate.samples(&estimate, samples)
        try estimate.check(against: .machine, remedy: "make it smaller")
        var files = try DiagnosticFiles(directory: out)
        files.configuration = [
            "task": .string(task), "from": .number(from), "to": .number(to), "points": .integer(points), "horizon": .number(horizon),
            "integrator": .string("leapfrog"), "dt": .number(dt), "sigma": .number(sigma), "nodes": .integer(nodes),
            "methods": .string(methodList), "samples": .integer(samples), "seed": .integer(seedValue), "precision": .string("f64"),
        ]

        let task = try TurnOffTask.make(horizon: horizon, integrator: Leapfrog(stepSize: dt))
        let values = (0..<points).map { from + (to - from) * Double($0) / Double(points - 1) }
        let landscape = try LossLandscape(values: values, sigma: sigma, nodes: nodes, methods: chosen, threads: threads)
        let reporter = ProgressReporter(label: "landscape")
        let (scanned, failures) = try landscape.scan(task, along: 0, at: [100]) { done, total in reporter.update(done, total) }

        let names = kinds.map { "gradient_" + $0.rawValue.replacingOccurrences(of: "-", with: "_") }
        let rows = scanned.map { [$0.value, $0.loss, $0.smoothedLoss, $0.smoothedGradient] + $0.gradients }
        try files.write(DiagnosticFiles.csv(header: ["I", "loss", "smoothed_loss", "smoothed_gradient"] + names, rows: rows), to: "landscape.csv")
        let title = "turn-off, \(TrajectoryOutput.number(horizon)) ms, σ = \(TrajectoryOutput.number(sigma))"
        let lossChart = LineChart(
            title: "Loss along I (\(title))", xLabel: "I (µA/cm²)", yLabel: "loss (mean synaptic output)",
            series: [.init(label: "loss", x: values, y: scanned.map(\.loss)),
                     .init(label: "smoothed (\(nodes)-point Gauss–Hermite)", x: values, y: scanned.map(\.smoothedLoss))])
        try files.write(lossChart.svg(), to: "landscape-loss.svg")
        var gradientSeries = [LineChart.Series(label: "smoothed-loss slope", x: values, y: scanned.map(\.smoothedGradient))]
        for (k, kind) in kinds.enumerated() { gradientSeries.append(.init(label: kind.rawValue, x: values, y: scanned.map { $0.gradients[k] })) }
        let limit = Self.robustLimit(gradientSeries.flatMap(\.y))
        let gradientChart = LineChart(
            title: "dL/dI along I (\(title))", xLabel: "I (µA/cm²)", yLabel: "dL/dI (axis clipped at ±\(String(format: "%.3g", limit)))",
            series: gradientSeries, yDomain: -limit...limit)
        try files.write(gradientChart.svg(), to: "landscape-gradient.svg")

        try files.commit()
        try OutputFile.standardOutput(files.summary + "\n")
        print(Self.summary(scanned, kinds: kinds))
        if failures.count > 0 {
            FileHandle.standardError.write(Data("landscape: \(failures.count) evaluations failed and are written as nan (first: \(failures.first ?? ""))\n".utf8))
        }
    }

    static func methodKinds(_ list: String) throws(CommandLineError) -> [GradientMethodKind] {
        var kinds: [GradientMethodKind] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard Self.methodNames.contains(item), let kind = GradientMethodKind(rawValue: item) else {
                throw .unknownName(kind: "method", name: item, choices: Self.methodNames)
            }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return kinds
    }

    /// Twice the 90th percentile of |g| over every series: spikes in BPTT's gradient reach 10⁴
    /// times the typical value and would flatten every other curve.
    static func robustLimit(_ values: [Double]) -> Double {
        let magnitudes = values.filter(\.isFinite).map(abs).sorted()
        guard !magnitudes.isEmpty else { return 1 }
        let percentile = magnitudes[min(magnitudes.count - 1, Int(0.9 * Double(magnitudes.count)))]
        return percentile > 0 ? 2 * percentile : max(magnitudes.last!, 1e-12)
    }

    /// Where the neuron falls silent, the largest jump of the loss, and how often each method's
    /// gradient has the smoothed slope's sign.
    static func summary(_ points: [LossLandscape.Point], kinds: [GradientMethodKind]) -> String {
        var lines: [String] = []
        let silent = points.filter { $0.loss < TurnOffTask.target }
        if let last = silent.last {
            lines.append("silent (loss < \(TurnOffTask.target)) at \(silent.count) of \(points.count) points, up to I = \(TrajectoryOutput.number(last.value))")
        } else {
            lines.append("the neuron fires (loss ≥ \(TurnOffTask.target)) at every point")
        }
        if let k = zip(points, points.dropFirst()).enumerated()
            .filter({ $0.element.0.loss.isFinite && $0.element.1.loss.isFinite })
            .max(by: { abs($0.element.1.loss - $0.element.0.loss) < abs($1.element.1.loss - $1.element.0.loss) })?.offset {
            let (a, b) = (points[k], points[k + 1])
            lines.append("largest loss jump: \(String(format: "%.4g", a.loss)) at I = \(TrajectoryOutput.number(a.value)) to \(String(format: "%.4g", b.loss)) at I = \(TrajectoryOutput.number(b.value))")
        }
        for (m, kind) in kinds.enumerated() {
            let compared = points.filter { $0.gradients[m].isFinite && $0.smoothedGradient.isFinite && $0.smoothedGradient != 0 }
            let agreeing = compared.filter { ($0.gradients[m] > 0) == ($0.smoothedGradient > 0) }.count
            let largest = points.map { abs($0.gradients[m]) }.filter(\.isFinite).max() ?? .nan
            lines.append("\(kind.rawValue): sign of the smoothed slope at \(agreeing) of \(compared.count) points; largest |dL/dI| \(String(format: "%.3g", largest))")
        }
        return lines.joined(separator: "\n")
    }
}
