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
        let methodList = methods?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let every = checkpointEvery
        if let every, every < 1 {
            throw CommandLineError.invalidValue(option: "--checkpoint-every", value: "\(every)", reason: "must be at least 1")
        }
        let entry = try TrainingCatalog.entry(named: task)
        let methods = try (methodList ?? ["bptt", "es"]).map { name throws(CommandLineError) in try CompareMethod(name: name) }
        guard !methods.isEmpty else { throw CommandLineError.invalidValue(option: "--methods", value: "", reason: "name at least one method") }
        if let duplicate = methods.first(where: { method in methods.filter { $0 == method }.count > 1 }) {
            throw CommandLineError.invalidValue(option: "--methods", value: duplicate.name, reason: "listed twice")
        }
        let runCount = runs ?? 1
        guard runCount >= 1 else { throw CommandLineError.invalidValue(option: "--runs", value: "\(runCount)", reason: "must be at least 1") }
        let directory = out ?? "out/compare-\(entry.name)"
        let kinds = methods.compactMap { method -> GradientMethodKind? in
            if case let .gradient(kind) = method { return kind }
            return nil
        }
        let runner = try options.problem(entry, methods: kinds, runs: runCount)
        let optimizer = try options.optimizerChoice(runner)
        let seed = options.seed ?? 0

        try options.rejectMethodOptions(unusedBy: kinds, cmaesListed: methods.contains(where: \.readsSigma))
        // Validate every method's settings before the first iteration runs.
        var plans: [Plan] = []
        for method in methods {
            switch method {
            case let .gradient(kind):
                plans.append(.gradient(kind, try options.methodSettings(kind, runner: runner, seed: seed),
                                       try options.trainerConfiguration(kind, runner: runner, seed: seed)))
            case let .cmaes(covariance):
                let cmaes = CMAES(covariance: covariance, initialStepSize: options.sigma ?? runner.defaults.sigma, seed: seed)
                _ = try cmaes.strategy(dimension: runner.parameterCount)
                // No gradient, so no clipping: the loop settings of a forward-only method.
                plans.append(.cmaes(cmaes, try options.trainerConfiguration(.es, runner: runner, seed: seed)))
            }
        }
        try prepare(directory)

        // Every gradient method's run checkpoints into its own store, so that an interrupted
        // comparison resumes: a finished run's last checkpoint holds its whole log and is kept.
        let stores = try plans.map { plan throws(CommandLineError) -> [CheckpointStore?] in
            guard case let .gradient(kind, _, _) = plan else { return Array(repeating: nil, count: runCount) }
            return try (0..<runCount).map { run throws(CommandLineError) in
                let store = Self.store(directory, kind, run)
                do {
                    if !resume { try store.removeAll() }
                    try store.prepare()
                } catch {
                    throw .cannotWrite(path: store.directory, reason: "\(error)")
                }
                return store
            }
        }
        Interruption.install()
        var results: [MethodResult] = []
        var written: [String] = []
        var interrupted = false
        for (index, plan) in plans.enumerated() where !interrupted {
            var logs: [[TrainingRecord]] = []
            var finals: [[Double]?] = []
            var failures: [String?] = []
            for run in 0..<runCount where !interrupted {
                let runSeed = seed &+ UInt64(run)
                let progress = TrainingProgress(prefix: "[\(plan.name) run \(run + 1)/\(runCount)] ")
                // The log as it grows, so a run that diverges keeps the iterations it ran.
                var collected: [TrainingRecord] = []
                let onEvent: (TrainingEvent) -> Void = { event in
                    if case let .iteration(record, _, _, _) = event { collected.append(record) }
                    progress.handle(event)
                }
                do {
                    switch plan {
                    case let .gradient(_, settings, loop):
                        var settings = settings, loop = loop
                        settings.seed = runSeed
                        loop.seed = runSeed
                        loop.checkpointInterval = every ?? 10
                        let session = TrainingSession(
                            method: settings.method(), methodSettings: describe(settings), optimizer: optimizer, configuration: loop,
                            checkpoints: stores[index][run], resume: resume)
                        let outcome = try runner.trainReturningParameters(session, onEvent: onEvent)
                        logs.append(outcome.log)
                        finals.append(outcome.parameters)
                        interrupted = outcome.log.count < loop.iterations && Interruption.requested
                    case let .cmaes(cmaes, loop):
                        var cmaes = cmaes, loop = loop
                        cmaes.seed = runSeed
                        loop.seed = runSeed
                        let outcome = try runner.evolve(cmaes, configuration: loop, onEvent: onEvent)
                        logs.append(outcome.log)
                        finals.append(outcome.state.mean)
                        interrupted = outcome.log.count < loop.iterations && Interruption.requested
                        written.append(try CMAESStateFile(method: plan.name, run: run, names: runner.parameterNames, state: outcome.state)
                            .write(to: directory))
                    }
                    failures.append(nil)
                } catch let error as TrainerError {
                    // A run that diverges is a result of the comparison: its log so far is kept,
                    // the stop reported, and the other runs go on.
                    guard case .diverged = error, !collected.isEmpty else {
                        throw GradientFailure.methodFailed(method: plan.name, reason: TrainingOptions.describe(error))
                    }
                    let reason = TrainingOptions.describe(error)
                    FileHandle.standardError.write(Data("[\(plan.name) run \(run + 1)/\(runCount)] stopped: \(reason)\n".utf8))
                    logs.append(collected)
                    finals.append(nil)
                    failures.append(reason)
                }
            }
            switch plan {
            case let .gradient(kind, settings, loop):
                results.append(MethodResult(
                    kind: kind, settings: settings, clip: loop.maxGradientNorm, logs: logs, finalParameters: finals, failures: failures))
            case let .cmaes(cmaes, _):
                results.append(MethodResult(
                    name: plan.name, statistics: CompareMethod.statistics(cmaes, parameters: runner.parameterCount), logs: logs,
                    finalParameters: finals, failures: failures))
            }
        }
        let report = CompareReport(
            runner: runner, paper: options.usesPaperSize, seed: seed, optimizer: optimizer, results: results)
        written = try report.write(to: directory) + written
        var text = report.table()
        if let analysis = runner.analysis {
            let extra = try analysis(results, seed, directory)
            written += extra.files
            text += "\n" + extra.text
        }
        if interrupted {
            throw Interruption.stopped(
                after: "the finished and partial runs are in \(directory) (curves.csv, summary.json); continue with the same command and --resume")
        }
        try OutputFile.standardOutput(text + "\nwrote \(written.joined(separator: ", "))\n")
    }

    /// The checkpoint store of one method's run: DIR/checkpoints/METHOD/run-R.
    static func store(_ directory: String, _ kind: GradientMethodKind, _ run: Int) -> CheckpointStore {
        CheckpointStore(directory: ((directory as NSString).appendingPathComponent("checkpoints") as NSString)
            .appendingPathComponent("\(kind.rawValue)/run-\(run)"))
    }

    /// One method's validated settings.
    private enum Plan {
        case gradient(GradientMethodKind, GradientMethodSettings, TrainerConfiguration)
        case cmaes(CMAES, TrainerConfiguration)

        var name: String {
            switch self {
            case let .gradient(kind, _, _): kind.rawValue
            case let .cmaes(cmaes, _): cmaes.name
            }
        }
    }

    private func prepare(_ directory: String) throws(CommandLineError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
    }
}
