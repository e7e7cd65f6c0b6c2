import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode train TASK --method M --checkpoint DIR`: one training run with crash-safe
/// checkpoints, resumable bit for bit.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a task with one gradient method or CMA-ES, checkpointing as it goes.",
        discussion: """
            Tasks:
            \(TrainingCatalog.entries.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))
            Every K iterations the whole state (θ, the optimizer's moments, the log) is written \
            atomically to DIR/checkpoint-NNNNNNNN.json; the newest two and the best are kept. \
            --resume continues from the newest intact one and produces the same curve as an \
            uninterrupted run. At the end DIR/curve.csv holds the log and a summary goes to \
            standard output.
            """
    )

    @Argument(help: "The task: \(TrainingCatalog.names.joined(separator: ", ")).")
    var task: String

    @Option(help: ArgumentHelp(
        "The method: \(CompareMethod.names.joined(separator: ", ")) (default bptt; cmaes and sep-cmaes read --sigma as σ₀).", valueName: "name"))
    var method: String?

    @Option(help: ArgumentHelp("Checkpoint directory.", valueName: "dir"))
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), parsing: .unconditional, help: "Checkpoint every K iterations (default 10).")
    var checkpointEvery: Int?

    @Flag(help: "Continue from the newest usable checkpoint in the directory (a fresh start when it holds none).")
    var resume = false

    @OptionGroup var options: TrainingOptions

    func run() throws {
        let options = self.options
        let every = checkpointEvery
        let entry = try TrainingCatalog.entry(named: task)
        let chosen = try CompareMethod(name: method ?? GradientMethodKind.bptt.rawValue)
        guard let directory = checkpoint else {
            throw CommandLineError.invalidValue(option: "--checkpoint", value: "", reason: "give the checkpoint directory")
        }
        if let every, every < 1 {
            throw CommandLineError.invalidValue(option: "--checkpoint-every", value: "\(every)", reason: "must be at least 1")
        }
        // CMA-ES is its own optimizer: the loop settings of a forward-only method, --sigma its σ₀.
        let kind: GradientMethodKind
        switch chosen {
        case let .gradient(gradientKind): kind = gradientKind
        case .cmaes: kind = .es
        }
        try options.training.rejectMethodOptions(unusedBy: chosen.readsSigma ? [] : [kind], cmaesListed: chosen.readsSigma ? true : nil)
        let runner = try options.problem(entry, methods: chosen.readsSigma ? [] : [kind])
        let optimizer = try options.training.optimizerChoice(runner)
        let seed = options.seed ?? 0
        var loop = try options.training.trainerConfiguration(kind, runner: runner, seed: seed)
        loop.checkpointInterval = every ?? 10
        let store = CheckpointStore(directory: directory)
        do {
            try store.prepare()  // an unwritable place fails now, not after the first K iterations
        } catch {
            throw CommandLineError.invalidValue(option: "--checkpoint", value: directory, reason: "\(error)")
        }
        // A fresh run among an earlier run's checkpoints would have its own pruned as older and,
        // on a later --resume, the earlier run continued instead: refuse it.
        if !resume, let newest = store.listing().first {
            throw CommandLineError.invalidValue(
                option: "--checkpoint", value: directory,
                reason: "it holds an earlier run's checkpoints (newest after iteration \(newest.iteration)); give --resume to continue that run, or another directory")
        }
        if resume, store.listing().isEmpty {
            FileHandle.standardError.write(Data("no checkpoint in \(directory); starting from iteration 0\n".utf8))
        }
        let progress = TrainingProgress(prefix: "[\(chosen.name)] ")
        Interruption.install()
        let log: [TrainingRecord]
        let result: MethodResult
        do {
            switch chosen {
            case let .gradient(kind):
                let settings = try options.training.methodSettings(kind, runner: runner, seed: seed)
                let session = TrainingSession(
                    method: settings.method(), methodSettings: describe(settings), optimizer: optimizer, configuration: loop,
                    checkpoints: store, resume: resume)
                log = try runner.train(session) { progress.handle($0) }
                result = MethodResult(kind: kind, settings: settings, clip: loop.maxGradientNorm, logs: [log])
            case let .cmaes(covariance):
                let cmaes = CMAES(covariance: covariance, initialStepSize: options.sigma ?? runner.defaults.sigma, seed: seed)
                _ = try cmaes.strategy(dimension: runner.parameterCount)
                let outcome = try runner.evolve(cmaes, configuration: loop, checkpoints: store, resume: resume) { progress.handle($0) }
                log = outcome.log
                result = MethodResult(
                    name: chosen.name, statistics: CompareMethod.statistics(cmaes, parameters: runner.parameterCount), logs: [log],
                    finalParameters: [outcome.state.mean], failures: [nil])
                _ = try CMAESStateFile(method: chosen.name, run: 0, names: runner.parameterNames, state: outcome.state).write(to: directory)
            }
        } catch let error as TrainerError {
            throw GradientFailure.methodFailed(method: chosen.name, reason: CommandLineError.describe(error))
        }
        let report = CompareReport(runner: runner, paper: options.training.usesPaperSize, seed: seed, optimizer: optimizer, results: [result])
        let curve = (directory as NSString).appendingPathComponent("curve.csv")
        try OutputFile.write(report.curvesCSV(), to: curve)
        var plots: [String] = []
        for plot in TrainingCharts(report: report).charts() where plot.name.contains("vs-iteration") {
            let path = (directory as NSString).appendingPathComponent(plot.name)
            try OutputFile.write(plot.chart.svg(), to: path)
            plots.append(path)
        }
        let newest = store.listing().first?.path ?? directory
        if log.count < loop.iterations, Interruption.requested {
            throw Interruption.stopped(
                after: "\(log.count) of \(loop.iterations) iterations saved in \(newest) and \(curve); continue with --resume")
        }
        try OutputFile.standardOutput(report.table() + "\ncheckpoint: \(newest)\nlog: \(curve)\nplots: \(plots.joined(separator: ", "))\n")
    }
}
