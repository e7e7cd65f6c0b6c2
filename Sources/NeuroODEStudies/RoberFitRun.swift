import Foundation
import Gradients

/// One training run of `rober-fit`: its plan, and after ``train(optimizer:)`` its log, how it
/// ended and the fitted trajectory.
public struct RoberFitRun {
    public let kind: GradientMethodKind
    public let problem: RoberFitTraining
    public let settings: GradientMethodSettings
    public let loop: TrainerConfiguration

    /// One row per iteration run, including those of a run that diverged.
    private(set) var log: [TrainingRecord] = []
    /// Why the run stopped before its last iteration (nil: it completed).
    private(set) var failure: String?
    /// θ after the last iteration, or, for a run that stopped early, at the last multiple of the
    /// checkpoint interval before it stopped.
    private(set) var parameters: [Double] = []
    /// The model at ``parameters`` at ``RoberFitRun/plotTimes``, row-major; nil when that solve failed.
    private(set) var trajectory: [Double]?

    /// Times of the fitted trajectory: 201 points log-spaced over the data's span.
    public static let plotTimes = (0..<201).map { pow(10, -5 + Double($0) / 20) }

    public init(kind: GradientMethodKind, problem: RoberFitTraining, settings: GradientMethodSettings, loop: TrainerConfiguration) {
        self.kind = kind
        self.problem = problem
        self.settings = settings
        self.loop = loop
    }

    /// Iterations whose update was skipped (rollbacks included) and rollbacks, from the log.
    var skipped: Int { log.filter(\.skippedUpdate).count }
    var rollbacks: Int { log.filter { $0.outcome == .rolledBack }.count }

    public var scaled: Bool { problem.configuration.scaled }
    public var label: String { "\(kind.rawValue) \(scaled ? "scaled" : "unscaled")" }

    /// Trains, collecting the log from the trainer's events.
    ///
    /// The trainer runs in segments of one checkpoint interval so that θ survives a run that
    /// diverges (the trainer's error carries no state). Segment ends fall on checkpoint
    /// iterations, where the trainer takes its rollback point anyway, so the segmented run does
    /// exactly what one uninterrupted call would.
    public mutating func train(optimizer: OptimizerChoice) {
        let progress = TrainingProgress(prefix: "[\(label)] ")
        let total = loop.iterations
        var log: [TrainingRecord] = []
        let onEvent: (TrainingEvent) -> Void = { event in
            guard case let .iteration(record, _, rate, _) = event else { return progress.handle(event) }
            log.append(record)
            // Each segment knows only its own end; progress shows the run's.
            progress.handle(.iteration(record, of: total, rate: rate, remaining: Double(total - record.iteration - 1) / rate))
        }
        let method = settings.method()
        func trainer(to iterations: Int) -> Trainer<RoberFitTraining, OptimizerChoice> {
            var configuration = loop
            configuration.iterations = iterations
            var trainer = Trainer(problem: problem, method: method, methodSettings: describe(settings), optimizer: optimizer, configuration: configuration)
            trainer.shouldStop = { Interruption.requested }
            return trainer
        }
        do {
            var state = try trainer(to: total).initialState()
            parameters = state.parameters
            while state.nextIteration < total, !Interruption.requested {
                let end = min(total, (state.nextIteration / loop.checkpointInterval + 1) * loop.checkpointInterval)
                state = try trainer(to: end).train(from: state, onEvent: onEvent)
                parameters = state.parameters
            }
            if state.nextIteration < total { failure = "interrupted after \(state.nextIteration) iterations" }
        } catch {
            failure = "\(error)"
            FileHandle.standardError.write(Data("[\(label)] stopped: \(error)\n".utf8))
        }
        self.log = log
        trajectory = try? problem.fit.trajectory(at: parameters, times: Self.plotTimes).states
    }
}
