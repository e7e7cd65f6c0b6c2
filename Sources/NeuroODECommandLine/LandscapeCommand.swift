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
            --nodes loss evaluations per point. Methods: \(LandscapeStudy.methodNames.joined(separator: ", ")). ES uses the same \
            seeded noise at every point. Evaluations run in parallel on --threads workers; the result does not \
            depend on their number. Every option can also come from --config FILE.json (keys: the option names \
            without dashes); flags override the file. Writes landscape.csv, landscape-loss.svg and \
            landscape-gradient.svg to --out.
            """)

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
        var study = LandscapeStudy()
        study.from = from ?? study.from
        study.to = to ?? study.to
        study.points = points ?? study.points
        study.horizon = horizon ?? study.horizon
        study.dt = dt ?? study.dt
        study.sigma = sigma ?? study.sigma
        study.nodes = nodes ?? study.nodes
        study.methods = methods ?? study.methods
        study.samples = samples ?? study.samples
        study.seed = seed.map { Int(truncatingIfNeeded: $0) } ?? study.seed
        study.threads = threads ?? study.threads
        try OutputFile.standardOutput(try study.run(writingTo: out ?? "out/landscape").joined(separator: "\n") + "\n")
    }
}
