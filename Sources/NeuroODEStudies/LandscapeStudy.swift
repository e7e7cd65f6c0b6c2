import Foundation
import Gradients
import NeuroODE

/// `landscape turn-off`: the turn-off loss along I (Morris–Lecar hopf started on its I = 100
/// cycle, leapfrog), its Gaussian-smoothed version E[L(I + σε)] (what ES descends) and each
/// method's gradient there. The settings with their defaults; ``validate()`` names a bad one,
/// ``run(writingTo:)`` writes landscape.csv, landscape-loss.svg and landscape-gradient.svg.
public struct LandscapeStudy: Sendable {
    /// The methods it can compare.
    public static let methodNames = ["bptt", "adjoint-partial", "adjoint-full", "es", "fd"]

    /// The range of I, µA/cm², and the number of evenly spaced points.
    public var from = 80.0
    public var to = 120.0
    public var points = 41
    /// Horizon τ and leapfrog step, ms.
    public var horizon = 3000.0
    public var dt = 0.1
    /// Smoothing and ES scale σ, µA/cm².
    public var sigma = 1.0
    /// Gauss–Hermite nodes per point.
    public var nodes = 32
    /// Comma-separated gradient methods.
    public var methods = "bptt,adjoint-partial,es,fd"
    /// ES samples (mirrored) and seed.
    public var samples = 100
    public var seed = 0
    /// Worker threads; the result does not depend on them.
    public var threads = Parallelism.defaultThreadCount

    public init() {}

    /// Throws for the first setting out of its domain, naming its option.
    public func validate() throws(CommandLineError) {
        guard from.isFinite, to.isFinite, from < to else {
            throw .invalidValue(option: "--from/--to", value: "\(from)...\(to)", reason: "need finite values with from < to")
        }
        guard points >= 2 else { throw .invalidValue(option: "--points", value: "\(points)", reason: "need at least 2") }
        guard horizon.isFinite, horizon > 0 else {
            throw .invalidValue(option: "--horizon", value: "\(horizon)", reason: "the horizon (ms) must be finite and positive")
        }
        guard dt.isFinite, dt > 0, dt <= horizon else {
            throw .invalidValue(option: "--dt", value: "\(dt)", reason: "the step must be finite, positive and at most the horizon")
        }
        guard sigma.isFinite, sigma > 0 else { throw .invalidValue(option: "--sigma", value: "\(sigma)", reason: "must be finite and positive") }
        guard (1...GaussHermiteRule.maximumOrder).contains(nodes) else {
            throw .invalidValue(option: "--nodes", value: "\(nodes)", reason: "must be in 1...\(GaussHermiteRule.maximumOrder)")
        }
        guard seed >= 0 else { throw .invalidValue(option: "--seed", value: "\(seed)", reason: "must not be negative") }
        guard threads >= 1 else { throw .invalidValue(option: "--threads", value: "\(threads)", reason: "need at least 1") }
        _ = try Self.methodKinds(methods)
    }

    /// Scans the loss, writes the result set into `out` and returns what to print: the paths,
    /// then the findings. Evaluations that failed are written as nan and reported on standard error.
    public func run(writingTo out: String) throws -> [String] {
        try validate()
        let kinds = try Self.methodKinds(methods)
        let chosen = kinds.map { kind -> any GradientMethod in
            switch kind {
            case .es: EvolutionStrategy(samples: samples, sigma: sigma, seed: UInt64(seed), threads: 1, communicator: SingleProcess())
            case .fd: FiniteDifferences(threads: 1)
            case .bptt: BackpropagationThroughTime(communicator: SingleProcess())
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
            "task": .string("turn-off"), "from": .number(from), "to": .number(to), "points": .integer(points), "horizon": .number(horizon),
            "integrator": .string("leapfrog"), "dt": .number(dt), "sigma": .number(sigma), "nodes": .integer(nodes),
            "methods": .string(methods), "samples": .integer(samples), "seed": .integer(seed), "precision": .string("f64"),
        ]

        let task = try TurnOffTask.make(horizon: horizon, integrator: Leapfrog(stepSize: dt))
        let values = (0..<points).map { from + (to - from) * Double($0) / Double(points - 1) }
        let landscape = try LossLandscape(values: values, sigma: sigma, nodes: nodes, methods: chosen, threads: threads)
        let reporter = ProgressReporter(label: "landscape")
        let (scanned, failures) = try landscape.scan(task, along: 0, at: [100]) { done, total in reporter.update(done, total) }

        let names = kinds.map { "gradient_" + $0.rawValue.replacingOccurrences(of: "-", with: "_") }
        let rows = scanned.map { [$0.value, $0.loss, $0.smoothedLoss, $0.smoothedGradient] + $0.gradients }
        try files.write(CSVTable.numbers(header: ["I", "loss", "smoothed_loss", "smoothed_gradient"] + names, rows: rows), to: "landscape.csv")
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
        if failures.count > 0 {
            FileHandle.standardError.write(Data("landscape: \(failures.count) evaluations failed and are written as nan (first: \(failures.first ?? ""))\n".utf8))
        }
        return [files.summary, Self.summary(scanned, kinds: kinds)]
    }

    public static func methodKinds(_ list: String) throws(CommandLineError) -> [GradientMethodKind] {
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
    public static func robustLimit(_ values: [Double]) -> Double {
        let magnitudes = values.filter(\.isFinite).map(abs).sorted()
        guard !magnitudes.isEmpty else { return 1 }
        let percentile = magnitudes[min(magnitudes.count - 1, Int(0.9 * Double(magnitudes.count)))]
        return percentile > 0 ? 2 * percentile : max(magnitudes.last!, 1e-12)
    }

    /// Where the neuron falls silent, the largest jump of the loss, and how often each method's
    /// gradient has the smoothed slope's sign.
    public static func summary(_ points: [LossLandscape.Point], kinds: [GradientMethodKind]) -> String {
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
