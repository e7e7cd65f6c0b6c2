import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode rober-fit`: SCIENCE.md's claim 5 in one command — ES and BP (the partial adjoint through
/// CVODES) each train the ROBER neural ODE with the output scaling on and off, from the same
/// initialization, and the four runs are compared.
///
/// A run that fails (an iteration's solve or gradient keeps failing until the trainer gives up,
/// ``TrainerError/diverged(iteration:rollbacks:lastFailure:)``) is a result of the comparison,
/// not an error of the command: it is recorded with the iteration and the reason, and the other
/// runs go on.
struct RoberFitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rober-fit",
        abstract: "Train the ROBER neural ODE with ES and BP (adjoint), output scaling on and off.",
        discussion: """
            Model 3 → (5, GELU)×6 → 3, dy/dt = NN(y) ⊙ yscale / 1e5 (scaling on) or NN(y) (off), fitted \
            to ROBER at 50 log-spaced times in [1e-5, 1e5]; loss: MAE of y/yscale; AdamW lr 5e-3, weight \
            decay 1e-6; forward solves CVODE BDF. BP is the partial adjoint through CVODES. Every run \
            starts from the same seeded weights. Writes DIR/curves.csv, DIR/summary.json, DIR/fit.svg \
            (data and fitted species, divided by yscale, on a log time axis, one panel per run) and \
            DIR/loss.svg (loss vs iteration, one line per run, beside a zoom on losses up to 1); \
            progress goes to standard error, a table to standard output. A run that diverges is \
            reported in the table and the summary; the others still run. Options may also come from \
            --config FILE.json (keys: the long option names); flags override the file.
            """
    )

    /// The methods this command trains with: ES, BP, and finite differences as a reference.
    static let methodChoices: [GradientMethodKind] = [.es, .adjointPartial, .fd]

    @Option(help: ArgumentHelp("Comma-separated methods: es, adjoint-partial (BP), fd (default es,adjoint-partial).", valueName: "list"))
    var methods: String?

    @Option(help: ArgumentHelp("Comma-separated output scalings to train with: on, off (default on,off).", valueName: "list"))
    var scaling: String?

    @Option(help: ArgumentHelp("Output directory (default out/rober-fit).", valueName: "dir"))
    var out: String?

    @OptionGroup var options: TrainingOptions

    func run() throws {
        let options = self.options
        let methodList = methods.map(Self.items)
        let scalingList = scaling.map(Self.items)
        if options.unscaled {
            throw CommandLineError.inapplicable(option: "--unscaled", reason: "rober-fit trains both scalings; choose with --scaling on,off")
        }
        try options.problemSettings.rejectOptions(notReadBy: try TrainingCatalog.entry(named: "rober-fit"))
        let kinds = try Self.parseMethods(methodList ?? ["es", "adjoint-partial"])
        let scalings = try Self.parseScalings(scalingList ?? ["on", "off"])
        if options.samples != nil || options.sigma != nil, !kinds.contains(.es) {
            throw CommandLineError.inapplicable(option: options.samples != nil ? "--samples" : "--sigma", reason: "no ES run is trained")
        }
        try options.rejectMethodOptions(unusedBy: kinds)

        var base = options.paper ? RoberFitTraining.Configuration.paper : .small
        base.iterations = try options.positive(options.iterations, "--iterations") ?? base.iterations
        base.samples = try options.positive(options.samples, "--samples") ?? base.samples
        if let sigma = options.sigma, !(sigma.isFinite && sigma > 0) {
            throw CommandLineError.invalidValue(option: "--sigma", value: "\(sigma)", reason: "must be finite and positive")
        }
        base.sigma = options.sigma ?? base.sigma
        try options.resources.applyThreads()
        var estimate = MemoryEstimate()
        RunEstimate.samples(&estimate, options.samples)
        RunEstimate.log(&estimate, iterations: base.iterations, runs: kinds.count * scalings.count)
        try estimate.check(against: try options.resources.memoryLimit())
        let problems = try scalings.map { scaled in
            var configuration = base
            configuration.scaled = scaled
            return try RoberFitTraining(configuration: configuration)
        }
        let runner = TrainingRunner(problems[0])
        let optimizer = try options.optimizerChoice(runner)
        let seed = options.seed ?? 0

        // Every run's settings are validated before the first iteration.
        var plans: [RoberFitRun] = []
        for problem in problems {
            for kind in kinds {
                plans.append(RoberFitRun(
                    kind: kind, problem: problem, settings: try options.methodSettings(kind, runner: runner, seed: seed),
                    loop: try options.trainerConfiguration(kind, runner: runner, seed: seed)))
            }
        }
        let directory = out ?? "out/rober-fit"
        var files = try DiagnosticFiles(directory: directory)

        // On SIGINT/SIGTERM the current iteration finishes, the runs done so far (the current one
        // up to where it stopped) are written, and the command exits with 128 + the signal.
        Interruption.install()
        var runs: [RoberFitRun] = []
        for var run in plans where !Interruption.requested {
            run.train(optimizer: optimizer)
            runs.append(run)
        }
        let report = RoberFitReport(
            runs: runs, paper: options.paper, seed: seed, iterations: base.iterations, optimizer: optimizer,
            configurations: problems.map(\.configuration))
        try files.write(report.curvesCSV(), to: "curves.csv")
        try files.write(report.summaryJSON(), to: "summary.json")
        try files.write(report.fitChart(), to: "fit.svg")
        try files.write(report.lossChart(), to: "loss.svg")
        try files.commit()
        if Interruption.requested {
            throw Interruption.stopped(after: "\(runs.count) of \(plans.count) runs (the last one partial) written to \(directory)")
        }
        try OutputFile.standardOutput(report.table() + "\n" + files.summary + "\n")
    }

    private static func items(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    private static func parseMethods(_ names: [String]) throws(CommandLineError) -> [GradientMethodKind] {
        var kinds: [GradientMethodKind] = []
        for name in names {
            guard let kind = GradientMethodKind(rawValue: name), methodChoices.contains(kind) else {
                throw .unknownName(kind: "method", name: name, owner: "rober-fit", choices: methodChoices.map(\.rawValue))
            }
            guard !kinds.contains(kind) else { throw .invalidValue(option: "--methods", value: name, reason: "listed twice") }
            kinds.append(kind)
        }
        guard !kinds.isEmpty else { throw .invalidValue(option: "--methods", value: "", reason: "name at least one method") }
        return kinds
    }

    private static func parseScalings(_ names: [String]) throws(CommandLineError) -> [Bool] {
        var scalings: [Bool] = []
        for name in names {
            guard name == "on" || name == "off" else {
                throw .unknownName(kind: "scaling", name: name, choices: ["on", "off"])
            }
            guard !scalings.contains(name == "on") else { throw .invalidValue(option: "--scaling", value: name, reason: "listed twice") }
            scalings.append(name == "on")
        }
        guard !scalings.isEmpty else { throw .invalidValue(option: "--scaling", value: "", reason: "name on, off or both") }
        return scalings
    }
}
