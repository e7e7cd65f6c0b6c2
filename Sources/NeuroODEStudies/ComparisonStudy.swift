import Foundation
import Gradients

/// `compare`: every method trained from the same initialization, on the same minibatches, for
/// several seeded runs (seeds seed … seed + R − 1); the curves, the summary and the plots are
/// written to one directory (README "Outputs").
///
/// Every gradient method's run checkpoints into its own store (DIR/checkpoints/METHOD/run-R), so
/// an interrupted comparison resumes: a finished run's last checkpoint holds its whole log and is
/// kept. A run that diverges is a result of the comparison: its log so far is kept, the stop
/// reported, and the other runs go on.
public struct ComparisonStudy: Codable, Equatable, Sendable {
    /// The methods' names (``CompareMethod``), in the order they run and are reported.
    public var methods: [String] = ["bptt", "es"]
    /// Independent runs per method.
    public var runs = 1
    /// Seed of run 0; run r uses seed + r.
    public var seed: UInt64 = 0
    /// The result directory.
    public var directory: String
    /// Iterations between checkpoints of each gradient method's run.
    public var checkpointInterval = 10
    /// Continue the runs checkpointed in ``directory`` instead of starting over.
    public var resume = false

    public init(directory: String) {
        self.directory = directory
    }

    /// The methods, after checking the settings; the error names the option that is wrong.
    public func validate() throws(CommandLineError) -> [CompareMethod] {
        guard checkpointInterval >= 1 else {
            throw .invalidValue(option: "--checkpoint-every", value: "\(checkpointInterval)", reason: "must be at least 1")
        }
        let parsed = try methods.map { name throws(CommandLineError) in try CompareMethod(name: name) }
        guard !parsed.isEmpty else { throw .invalidValue(option: "--methods", value: "", reason: "name at least one method") }
        if let duplicate = parsed.first(where: { method in parsed.filter { $0 == method }.count > 1 }) {
            throw .invalidValue(option: "--methods", value: duplicate.name, reason: "listed twice")
        }
        guard runs >= 1 else { throw .invalidValue(option: "--runs", value: "\(runs)", reason: "must be at least 1") }
        return parsed
    }

    /// One method's validated settings; the seeds are set per run.
    public enum Plan {
        case gradient(GradientMethodKind, GradientMethodSettings, TrainerConfiguration)
        case cmaes(CMAES, TrainerConfiguration)

        public var name: String {
            switch self {
            case let .gradient(kind, _, _): kind.rawValue
            case let .cmaes(cmaes, _): cmaes.name
            }
        }
    }

    /// What a comparison produced: its report, the files written and the table for people.
    public struct Outcome {
        public let report: CompareReport
        public let files: [String]
        public let text: String
    }

    /// Trains every plan's runs on `runner` and writes the report into ``directory``.
    ///
    /// Throws ``Interruption`` when an interrupt stopped a run (what finished is written first
    /// and continues with ``resume``), ``GradientFailure`` when a method fails other than by
    /// diverging, ``CommandLineError`` when the directory cannot be written.
    /// - Parameters:
    ///   - paper: whether the problem has its paper size, for the report.
    ///   - progress: receives each run's training events with the run's label.
    public func run(
        _ plans: [Plan], on runner: TrainingRunner, optimizer: OptimizerChoice, paper: Bool,
        progress: (_ label: String) -> (TrainingEvent) -> Void = { TrainingProgress(prefix: "[\($0)] ").handle }
    ) throws -> Outcome {
        let stores = try prepareStores(plans)
        Interruption.install()
        var results: [MethodResult] = []
        var written: [String] = []
        var interrupted = false
        for (index, plan) in plans.enumerated() where !interrupted {
            var logs: [[TrainingRecord]] = [], finals: [[Double]?] = [], failures: [String?] = []
            for run in 0..<runs where !interrupted {
                let label = "\(plan.name) run \(run + 1)/\(runs)"
                let report = progress(label)
                // The log as it grows, so a run that diverges keeps the iterations it ran.
                var collected: [TrainingRecord] = []
                let onEvent: (TrainingEvent) -> Void = { event in
                    if case let .iteration(record, _, _, _) = event { collected.append(record) }
                    report(event)
                }
                do {
                    let (log, final, iterations) = try train(plan, run: run, store: stores[index][run], runner: runner, optimizer: optimizer,
                                                             written: &written, onEvent: onEvent)
                    logs.append(log)
                    finals.append(final)
                    failures.append(nil)
                    interrupted = log.count < iterations && Interruption.requested
                } catch let error as TrainerError {
                    guard case .diverged = error, !collected.isEmpty else {
                        throw GradientFailure.methodFailed(method: plan.name, reason: CommandLineError.describe(error))
                    }
                    let reason = CommandLineError.describe(error)
                    FileHandle.standardError.write(Data("[\(label)] stopped: \(reason)\n".utf8))
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
        let report = CompareReport(runner: runner, paper: paper, seed: seed, optimizer: optimizer, results: results)
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
        return Outcome(report: report, files: written, text: text)
    }

    /// One run of one plan: its log, final θ and planned iteration count.
    private func train(
        _ plan: Plan, run: Int, store: CheckpointStore?, runner: TrainingRunner, optimizer: OptimizerChoice,
        written: inout [String], onEvent: (TrainingEvent) -> Void
    ) throws -> (log: [TrainingRecord], parameters: [Double], iterations: Int) {
        let runSeed = seed &+ UInt64(run)
        switch plan {
        case let .gradient(_, settings, loop):
            var settings = settings, loop = loop
            settings.seed = runSeed
            loop.seed = runSeed
            loop.checkpointInterval = checkpointInterval
            let session = TrainingSession(
                method: settings.method(), methodSettings: describe(settings), optimizer: optimizer, configuration: loop,
                checkpoints: store, resume: resume)
            let outcome = try runner.trainReturningParameters(session, onEvent: onEvent)
            return (outcome.log, outcome.parameters, loop.iterations)
        case let .cmaes(cmaes, loop):
            var cmaes = cmaes, loop = loop
            cmaes.seed = runSeed
            loop.seed = runSeed
            let outcome = try runner.evolve(cmaes, configuration: loop, onEvent: onEvent)
            written.append(try CMAESStateFile(method: plan.name, run: run, names: runner.parameterNames, state: outcome.state)
                .write(to: directory))
            return (outcome.log, outcome.state.mean, loop.iterations)
        }
    }

    /// The result directory and each gradient run's checkpoint store (emptied unless resuming).
    private func prepareStores(_ plans: [Plan]) throws(CommandLineError) -> [[CheckpointStore?]] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory, reason: error.localizedDescription)
        }
        return try plans.map { plan throws(CommandLineError) -> [CheckpointStore?] in
            guard case let .gradient(kind, _, _) = plan else { return Array(repeating: nil, count: runs) }
            return try (0..<runs).map { run throws(CommandLineError) in
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
    }

    /// The checkpoint store of one method's run: DIR/checkpoints/METHOD/run-R.
    public static func store(_ directory: String, _ kind: GradientMethodKind, _ run: Int) -> CheckpointStore {
        CheckpointStore(directory: ((directory as NSString).appendingPathComponent("checkpoints") as NSString)
            .appendingPathComponent("\(kind.rawValue)/run-\(run)"))
    }
}
