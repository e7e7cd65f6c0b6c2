import ArgumentParser
import Foundation
import Gradients
import NeuroODE

/// `neuroode compare TASK --methods es,bptt`: trains every method from the same initialization,
/// on the same minibatches, for several seeded runs, and writes the curves, a summary and plots.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train a task with several gradient methods from the same start and compare them.",
        discussion: """
            Tasks:
            \(TrainingCatalog.entries.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n"))
            Methods: \(GradientMethodKind.allCases.map(\.rawValue).joined(separator: ", ")).
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
        var options = self.options
        var methodList = methods?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var runs = self.runs, out = self.out, every = checkpointEvery, resume = self.resume
        if let path = options.config {
            let file = try ConfigurationFile(
                path: path, allowedKeys: TrainingOptions.keys + ["methods", "runs", "out", "checkpoint-every", "resume"])
            try options.merge(file)
            methodList = try methodList ?? file.list("methods")
            runs = try runs ?? file.integer("runs")
            out = try out ?? file.string("out")
            every = try every ?? file.integer("checkpoint-every")
            resume = try resume || (file.boolean("resume") ?? false)
        }
        if let every, every < 1 {
            throw CommandLineError.invalidValue(option: "--checkpoint-every", value: "\(every)", reason: "must be at least 1")
        }
        let entry = try TrainingCatalog.entry(named: task)
        let kinds = try (methodList ?? ["bptt", "es"]).map { name throws(CommandLineError) in
            guard let kind = GradientMethodKind(rawValue: name) else {
                throw .unknownName(kind: "method", name: name, choices: GradientMethodKind.allCases.map(\.rawValue))
            }
            return kind
        }
        guard !kinds.isEmpty else { throw CommandLineError.invalidValue(option: "--methods", value: "", reason: "name at least one method") }
        if let duplicate = kinds.first(where: { kind in kinds.filter { $0 == kind }.count > 1 }) {
            throw CommandLineError.invalidValue(option: "--methods", value: duplicate.rawValue, reason: "listed twice")
        }
        let runCount = runs ?? 1
        guard runCount >= 1 else { throw CommandLineError.invalidValue(option: "--runs", value: "\(runCount)", reason: "must be at least 1") }
        let directory = out ?? "out/compare-\(entry.name)"
        let runner = try options.problem(entry, methods: kinds, runs: runCount)
        let optimizer = try options.optimizerChoice(runner)
        let seed = options.seed ?? 0

        // Validate every method's settings before the first iteration runs.
        var plans: [(kind: GradientMethodKind, settings: GradientMethodSettings, loop: TrainerConfiguration)] = []
        for kind in kinds {
            plans.append((kind, try options.methodSettings(kind, runner: runner, seed: seed),
                          try options.trainerConfiguration(kind, runner: runner, seed: seed)))
        }
        if options.samples != nil || options.sigma != nil, !kinds.contains(.es) {
            throw CommandLineError.inapplicable(option: options.samples != nil ? "--samples" : "--sigma", reason: "no ES method is compared")
        }
        try prepare(directory)

        // Every run checkpoints into its own store, so that an interrupted comparison resumes:
        // a finished run's last checkpoint holds its whole log and is kept as it is.
        let stores = try plans.map { plan throws(CommandLineError) in
            try (0..<runCount).map { run throws(CommandLineError) in
                let store = Self.store(directory, plan.kind, run)
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
        var interrupted = false
        for (index, plan) in plans.enumerated() where !interrupted {
            var logs: [[TrainingRecord]] = []
            for run in 0..<runCount where !interrupted {
                let runSeed = seed &+ UInt64(run)
                var settings = plan.settings
                settings.seed = runSeed
                var loop = plan.loop
                loop.seed = runSeed
                loop.checkpointInterval = every ?? 10
                let session = TrainingSession(
                    method: settings.method(), methodSettings: describe(settings), optimizer: optimizer, configuration: loop,
                    checkpoints: stores[index][run], resume: resume)
                let progress = TrainingProgress(prefix: "[\(plan.kind.rawValue) run \(run + 1)/\(runCount)] ")
                do {
                    logs.append(try runner.train(session) { progress.handle($0) })
                } catch let error as TrainerError {
                    throw GradientFailure.methodFailed(method: plan.kind.rawValue, reason: TrainingOptions.describe(error))
                }
                interrupted = logs[run].count < loop.iterations && Interruption.requested
            }
            results.append(MethodResult(
                kind: plan.kind, settings: plan.settings, clip: plan.loop.maxGradientNorm, logs: logs))
        }
        let report = CompareReport(
            runner: runner, paper: options.paper, seed: seed, optimizer: optimizer, results: results)
        let written = try report.write(to: directory)
        if interrupted {
            throw Interruption.stopped(
                after: "the finished and partial runs are in \(directory) (curves.csv, summary.json); continue with the same command and --resume")
        }
        try OutputFile.standardOutput(report.table() + "\nwrote \(written.joined(separator: ", "))\n")
    }

    /// The checkpoint store of one method's run: DIR/checkpoints/METHOD/run-R.
    static func store(_ directory: String, _ kind: GradientMethodKind, _ run: Int) -> CheckpointStore {
        CheckpointStore(directory: ((directory as NSString).appendingPathComponent("checkpoints") as NSString)
            .appendingPathComponent("\(kind.rawValue)/run-\(run)"))
    }

    private func prepare(_ directory: String) throws(CommandLineError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
    }
}

/// A method's settings as one line (part of a checkpoint's identity and of the summary).
func describe(_ settings: GradientMethodSettings) -> String {
    settings.statistics.map { "\($0.key)=\($0.value.plain)" }.joined(separator: " ")
}
