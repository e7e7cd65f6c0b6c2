import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode compare TASK --methods es,bptt`: trains every method from the same initialization,
/// on the same minibatches, for several seeded runs, and writes the curves, a summary and plots.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train a task with several gradient methods from the same start and compare them.",
        discussion: """
            Tasks:
            \(TrainingCatalog.entries.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))
            Methods: \(CompareMethod.names.joined(separator: ", ")) (cmaes and sep-cmaes are optimizers \
            of their own: one CMA-ES generation per iteration, --sigma their initial step size; each \
            run's learned covariance goes to DIR/METHOD-runR-state.json).
            Writes DIR/curves.csv, DIR/summary.json and SVG plots of loss (and the held-out metric) \
            against iteration and wall time; prints progress on standard error and a table on \
            standard output. Invalid input exits with status 64 and one line on standard error.
            """
    )

    @Argument(help: "The task: \(TrainingCatalog.names.joined(separator: ", ")).")
    var task: String

    @Option(help: ArgumentHelp("Comma-separated gradient methods (default bptt,es).", valueName: "list"))
    var methods: String?

    @Option(parsing: .unconditional, help: "Independent runs per method, seeds seed … seed + R − 1 (default 1).")
    var runs: Int?

    @Option(help: ArgumentHelp("Output directory (default out/compare-TASK).", valueName: "dir"))
    var out: String?

    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Checkpoint every run every K iterations, in DIR/checkpoints (default 10).")
    var checkpointEvery: Int?

    @Flag(help: "Continue an interrupted comparison in DIR: finished runs are kept, the others continue from their checkpoints.")
    var resume = false

    @OptionGroup var options: TrainingOptions

    func run() throws {
        let options = self.options
        let entry = try TrainingCatalog.entry(named: task)
        var study = ComparisonStudy(directory: out ?? "out/compare-\(entry.name)")
        if let methods { study.methods = methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        study.runs = runs ?? study.runs
        study.seed = options.seed ?? study.seed
        study.checkpointInterval = checkpointEvery ?? study.checkpointInterval
        study.resume = resume
        let methods = try study.validate()
        let kinds = methods.compactMap { method -> GradientMethodKind? in
            if case let .gradient(kind) = method { return kind }
            return nil
        }
        let runner = try options.problem(entry, methods: kinds, runs: study.runs)
        let optimizer = try options.training.optimizerChoice(runner)
        try options.training.rejectMethodOptions(unusedBy: kinds, cmaesListed: methods.contains(where: \.readsSigma))
        // Every method's settings are validated before the first iteration runs.
        let plans = try methods.map { method throws -> ComparisonStudy.Plan in
            switch method {
            case let .gradient(kind):
                return .gradient(kind, try options.training.methodSettings(kind, runner: runner, seed: study.seed),
                                 try options.training.trainerConfiguration(kind, runner: runner, seed: study.seed))
            case let .cmaes(covariance):
                let cmaes = CMAES(covariance: covariance, initialStepSize: options.sigma ?? runner.defaults.sigma, seed: study.seed)
                _ = try cmaes.strategy(dimension: runner.parameterCount)
                // No gradient, so no clipping: the loop settings of a forward-only method.
                return .cmaes(cmaes, try options.training.trainerConfiguration(.es, runner: runner, seed: study.seed))
            }
        }
        let outcome = try study.run(plans, on: runner, optimizer: optimizer, paper: options.training.usesPaperSize)
        try OutputFile.standardOutput(outcome.text + "\nwrote \(outcome.files.joined(separator: ", "))\n")
    }
}
