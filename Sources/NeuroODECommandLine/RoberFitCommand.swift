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

    @Option(help: ArgumentHelp("Comma-separated methods: es, adjoint-partial (BP), fd (default es,adjoint-partial).", valueName: "list"))
    var methods: String?

    @Option(help: ArgumentHelp("Comma-separated output scalings to train with: on, off (default on,off).", valueName: "list"))
    var scaling: String?

    @Option(help: ArgumentHelp("Output directory (default out/rober-fit).", valueName: "dir"))
    var out: String?

    @OptionGroup var options: TrainingOptions

    func run() throws {
        let options = self.options
        if options.unscaled {
            throw CommandLineError.inapplicable(option: "--unscaled", reason: "rober-fit trains both scalings; choose with --scaling on,off")
        }
        try options.problemSettings.rejectOptions(notReadBy: try TrainingCatalog.entry(named: "rober-fit"))
        var study = RoberFitStudy()
        func items(_ text: String) -> [String] {
            text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        study.methods = methods.map(items) ?? study.methods
        study.scalings = scaling.map(items) ?? study.scalings
        (study.paper, study.iterations, study.samples, study.sigma) = (options.paper, options.iterations, options.samples, options.sigma)
        study.seed = options.seed ?? study.seed
        study.directory = out ?? study.directory
        let kinds = try study.validate().kinds
        try options.training.rejectMethodOptions(unusedBy: kinds)
        try options.resources.applyThreads()
        let problems = try study.problems(memoryLimit: try options.resources.memoryLimit())
        let runner = TrainingRunner(problems[0])
        let optimizer = try options.training.optimizerChoice(runner)
        // Every run's settings are validated before the first iteration.
        let plans = try problems.flatMap { problem in
            try kinds.map { kind in
                RoberFitRun(
                    kind: kind, problem: problem, settings: try options.training.methodSettings(kind, runner: runner, seed: study.seed),
                    loop: try options.training.trainerConfiguration(kind, runner: runner, seed: study.seed))
            }
        }
        try OutputFile.standardOutput(try study.run(plans, problems: problems, optimizer: optimizer))
    }
}
