import _Differentiation
import Foundation
import Testing
import NeuroODE
@testable import Gradients

/// The fit API (``Trainer`` on a plain ``TrainingTask``) as the custom-model example uses it:
/// FitzHugh–Nagumo (autodiff form) fitted to SciPy's recording of v, and the API's parts —
/// schedules, early stopping, progress events, checkpoint resume — against closed forms.
@Suite struct CustomModelFitTests {
    /// The example's loss: mean squared error of v at the observation times.
    struct Trace: DifferentiableTaskLoss {
        let observationTimes: [Double]
        let values: [Double]

        @differentiable(reverse, wrt: (state, parameters))
        func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double {
            let residual = state[0] - values[index]
            return residual * residual / Double(values.count)
        }
    }

    /// Validation/fitzhugh_nagumo.py's recording: v at t = 0.5, 1, …, 40 by SciPy's DOP853 at
    /// rtol = atol = 1e-13 with (a, b, τ, I) = (0.7, 0.8, 12.5, 0.5) — the example's data, computed
    /// outside NeuroODE.
    struct Reference: Decodable {
        var parameters: [String: Double]
        var times: [Double]
        var v: [Double]

        static func load() throws -> Reference {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../NeuroODETests/References/fitzhugh_nagumo_trace.json")
            return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        }
    }

    static let fitted = ["a", "b", "tau"]
    static let start = [0.6, 0.9, 11.0]
    static let dopri = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)

    /// The example's task: a, b, τ trained from 12–14 % off (I = 0.5 known) against the recording.
    func task() throws -> TrainingTask<AutodiffFitzHughNagumo, DormandPrince, Trace> {
        let reference = try Reference.load()
        return try TrainingTask(
            name: "fhn-fit", system: AutodiffFitzHughNagumo(), systemParameters: Self.start + [0.5], timeSpan: (0, 40),
            integrator: Self.dopri, loss: Trace(observationTimes: reference.times, values: reference.v), training: Self.fitted)
    }

    static let target = TrainingTarget(quantity: .loss, threshold: 1e-5, higherIsBetter: false)

    /// The example's fit (Adam at 0.05 on θ/θ₀, ×0.99 per iteration, stop at MSE < 1e-5) on SciPy's
    /// recording recovers the parameters SciPy was run with to 1 % (the example reaches 0.2 %,
    /// in 79 iterations).
    @Test func bpttRecoversTheReferenceParameters() throws {
        let task = try task()
        let reference = try Reference.load()
        let trainer = Trainer(
            problem: task, method: BackpropagationThroughTime(), optimizer: Adam(learningRate: 0.05),
            configuration: TrainerConfiguration(
                iterations: 300, maxGradientNorm: 10, learningRateSchedule: .exponential(factor: 0.99),
                parameterScale: Self.start, earlyStopping: EarlyStopping(target: Self.target)))
        let state = try trainer.run()
        let last = try #require(state.log.last)
        #expect(state.stopReason == .targetReached(iteration: last.iteration), "\(state.stopReason.map { "\($0)" } ?? "ran all") loss \(last.loss)")
        #expect(state.nextIteration < 300)
        // At the target the iteration makes no update: θ is the one whose loss reached it.
        #expect(abs(try task.loss(at: state.parameters) - last.loss) <= 1e-3 * last.loss)
        for (k, name) in Self.fitted.enumerated() {
            let truth = try #require(reference.parameters[name])
            #expect(abs(state.parameters[k] - truth) <= 0.01 * truth, "\(name) = \(state.parameters[k]), SciPy's \(truth)")
        }
    }

    /// ES through the same API: with the parameter scale it perturbs θ/θ₀, so one σ suits a ≈ 0.7
    /// and τ ≈ 12. Its estimates are noisy along the valley in which b and τ trade off, so the fit
    /// is looser than BPTT's: 3 % on every parameter (the example's seed reaches 0.5 %).
    @Test func evolutionStrategyRecoversTheReferenceParameters() throws {
        let task = try task()
        let reference = try Reference.load()
        let trainer = Trainer(
            problem: task, method: EvolutionStrategy(samples: 16, sigma: 0.01, seed: 1, threads: 2), optimizer: Adam(learningRate: 0.05),
            configuration: TrainerConfiguration(
                iterations: 300, maxGradientNorm: 10, learningRateSchedule: .exponential(factor: 0.997), parameterScale: Self.start,
                earlyStopping: EarlyStopping(target: Self.target)))
        let state = try trainer.run()
        for (k, name) in Self.fitted.enumerated() {
            let truth = try #require(reference.parameters[name])
            #expect(abs(state.parameters[k] - truth) <= 0.03 * truth, "\(name) = \(state.parameters[k]), SciPy's \(truth)")
        }
    }

    /// CMA-ES runs on the same task under ``CMAESTrainer``, with the same early stopping; it learns
    /// the parameters' scales itself, so it takes no parameter scale (nor a schedule: refused).
    @Test func cmaesFitsTheSameTask() throws {
        let task = try task()
        let reference = try Reference.load()
        let cmaes = CMAES(initialStepSize: 0.3, seed: 0, threads: 2)
        let run = try CMAESTrainer(
            problem: task, cmaes: cmaes,
            configuration: TrainerConfiguration(iterations: 200, earlyStopping: EarlyStopping(target: Self.target))).run()
        #expect(run.stopReason == .targetReached(iteration: run.log.count - 1), "loss \(run.log.last?.loss ?? .nan)")
        // The generation at the target leaves the mean as it was: its loss is the logged one.
        #expect(try task.loss(at: run.state.mean) == run.log.last?.loss)
        for (k, name) in Self.fitted.enumerated() {
            let truth = try #require(reference.parameters[name])
            #expect(abs(run.state.mean[k] - truth) <= 0.03 * truth, "\(name) = \(run.state.mean[k]), SciPy's \(truth)")
        }
        #expect(throws: TrainingError.self) {
            try CMAESTrainer(
                problem: task, cmaes: cmaes,
                configuration: TrainerConfiguration(iterations: 5, learningRateSchedule: .exponential(factor: 0.9))).run()
        }
    }

    /// A stand-in method with a known answer: L(θ) = ½‖θ − c‖², ∇L = θ − c, c = (1, 2, 30), whatever
    /// the task; or, when `losses` is set, the loss of iteration k is `losses[k]`.
    struct Quadratic: GradientMethod {
        var losses: [Double]? = nil
        var name: String { "quadratic" }
        static let center = [1.0, 2.0, 30.0]

        func estimate<System, Method, Loss>(
            _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
        ) throws -> GradientEstimate {
            let residual = zip(theta, Self.center).map(-)
            let loss = losses?[iteration] ?? 0.5 * residual.reduce(0) { $0 + $1 * $1 }
            return GradientEstimate(loss: loss, gradient: residual, report: GradientReport())
        }
    }

    /// Each schedule's rate per iteration, against its closed form written out here, and gradient
    /// descent's θ against θ_k − c = (θ₀ − c)·Π_{j<k}(1 − η_j).
    /// The rates of iterations 0–9 from η₀ = 0.1, written out per schedule.
    static let scheduledRates: [(LearningRateSchedule, [Double])] = {
        let exponential: [Double] = (0..<10).map { k in (0..<k).reduce(0.1) { rate, _ in rate * 0.9 } }
        // η_min = 0.01; the cosine is cos(kπ/8): √2/2 at k = 2, 0 at 4, −√2/2 at 6; from k = 8 on η_min.
        let c1: Double = cos(Double.pi / 8), c2: Double = 0.5.squareRoot(), c3: Double = cos(3 * Double.pi / 8)
        let cosine: [Double] = [0.1, 0.01 + 0.045 * (1 + c1), 0.01 + 0.045 * (1 + c2), 0.01 + 0.045 * (1 + c3), 0.055,
                                0.01 + 0.045 * (1 - c3), 0.01 + 0.045 * (1 - c2), 0.01 + 0.045 * (1 - c1), 0.01, 0.01]
        return [
            (.constant, Array(repeating: 0.1, count: 10)),
            (.step(every: 3, factor: 0.5), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125]),
            (.exponential(factor: 0.9), exponential),
            (.cosine(period: 8, floor: 0.1), cosine),
        ]
    }()

    @Test(arguments: scheduledRates)
    func scheduleFollowsItsClosedForm(schedule: LearningRateSchedule, rates: [Double]) throws {
        let trainer = Trainer(
            problem: try task(), method: Quadratic(), optimizer: GradientDescent(learningRate: 0.1),
            configuration: TrainerConfiguration(iterations: 10, learningRateSchedule: schedule))
        let state = try trainer.run()
        var product = 1.0
        for (k, record) in state.log.enumerated() {
            #expect(abs(record.learningRate - rates[k]) <= 1e-15, "\(schedule) at \(k): \(record.learningRate), expected \(rates[k])")
            product *= 1 - rates[k]
        }
        for (k, start) in Self.start.enumerated() {
            let expected = Quadratic.center[k] + (start - Quadratic.center[k]) * product
            #expect(abs(state.parameters[k] - expected) <= 1e-12 * abs(start), "θ[\(k)] = \(state.parameters[k]), expected \(expected)")
        }
    }

    @Test func badSchedulesAndScalesAreRefusedNamingTheValue() throws {
        let task = try task()
        let cases: [(TrainerConfiguration, String)] = [
            (TrainerConfiguration(iterations: 5, learningRateSchedule: .step(every: 0, factor: 0.5)), "schedule.every"),
            (TrainerConfiguration(iterations: 5, learningRateSchedule: .exponential(factor: 1.5)), "schedule.factor"),
            (TrainerConfiguration(iterations: 5, learningRateSchedule: .cosine(period: 10, floor: -1)), "schedule.floor"),
            (TrainerConfiguration(iterations: 5, parameterScale: [1, 0, 1]), "parameterScale[1]"),
            (TrainerConfiguration(iterations: 5, parameterScale: [1, 1]), "parameterScale"),
            (TrainerConfiguration(iterations: 5, earlyStopping: EarlyStopping(patience: 0)), "patience"),
        ]
        for (configuration, option) in cases {
            #expect {
                try Trainer(problem: task, method: Quadratic(), optimizer: Adam(), configuration: configuration).run()
            } throws: { error in
                guard case let TrainingError.invalidOption(name, _, _) = error else { return false }
                return name == option
            }
        }
    }

    /// Patience on the training loss: the best loss (less `minimumImprovement`) is at iteration 2,
    /// so with patience 3 the run stops after iteration 5, having run 6 of 10 iterations.
    @Test func stopsAfterPatienceIterationsWithoutImprovement() throws {
        let losses = [5, 4, 3, 2.95, 3.5, 2.99, 3.2, 1, 1, 1]
        let trainer = Trainer(
            problem: try task(), method: Quadratic(losses: losses), optimizer: Adam(),
            configuration: TrainerConfiguration(iterations: 10, earlyStopping: EarlyStopping(patience: 3, minimumImprovement: 0.1)))
        var events: [TrainingEvent] = []
        let state = try trainer.run { events.append($0) }
        #expect(state.nextIteration == 6)
        #expect(state.stopReason == .noImprovement(bestIteration: 2, patience: 3))
        guard case .stoppedEarly(.noImprovement(2, 3)) = try #require(events.last) else {
            Issue.record("last event: \(events.last.map { $0.message } ?? "none")")
            return
        }
        // A stopped run continued under the same stopping rule stops at once.
        #expect(try trainer.train(from: state).log == state.log)
        // Without the margin 2.95 is an improvement, and the stop comes one iteration later.
        let strict = Trainer(
            problem: try task(), method: Quadratic(losses: losses), optimizer: Adam(),
            configuration: TrainerConfiguration(iterations: 10, earlyStopping: EarlyStopping(patience: 3)))
        #expect(try strict.run().nextIteration == 7)
    }

    /// Patience and a target on a held-out metric that is better higher (accuracy), evaluated every
    /// other iteration: the best is 0.70 at iteration 2 (0.71 at 8 falls short of the 0.05
    /// margin), so patience 4 stops after iteration 6; a target of 0.7 is reached at iteration 2.
    @Test func patienceAndTargetOnAHeldOutMetric() {
        let metric: [Int: Double] = [0: 0.5, 2: 0.7, 4: 0.69, 6: 0.68, 8: 0.71]
        let log = (0..<10).map {
            TrainingRecord(iteration: $0, wallTime: 0, loss: 1, testMetric: metric[$0], gradientNorm: 1,
                           learningRate: 0.1, bytesStored: 0, peakBytes: nil, event: nil)
        }
        let patience = EarlyStopping(monitor: .testMetric, patience: 4, minimumImprovement: 0.05)
        let firstStop = (1...10).first { patience.reason(toStop: Array(log.prefix($0)), higherIsBetter: true) != nil }
        #expect(firstStop == 7)
        #expect(patience.reason(toStop: Array(log.prefix(7)), higherIsBetter: true) == .noImprovement(bestIteration: 2, patience: 4))
        let target = EarlyStopping(target: TrainingTarget(quantity: .testMetric, threshold: 0.7, higherIsBetter: true))
        let reached = (1...10).first { target.reason(toStop: Array(log.prefix($0)), higherIsBetter: true) != nil }
        #expect(reached == 3)
    }

    /// One iteration event per iteration with the record, the total, a positive rate and an ETA
    /// that reaches 0; the records carry the scheduled rate.
    @Test func progressEventsCarryIterationLossRateAndETA() throws {
        let trainer = Trainer(
            problem: try task(), method: Quadratic(), optimizer: Adam(learningRate: 0.2),
            configuration: TrainerConfiguration(iterations: 6, learningRateSchedule: .exponential(factor: 0.5)))
        var seen: [(record: TrainingRecord, total: Int, rate: Double, remaining: Double)] = []
        let state = try trainer.run { event in
            if case let .iteration(record, total, rate, remaining) = event { seen.append((record, total, rate, remaining)) }
        }
        #expect(seen.map(\.record) == state.log)
        #expect(seen.map(\.record.iteration) == Array(0..<6))
        #expect(seen.allSatisfy { $0.total == 6 && $0.rate > 0 && $0.rate.isFinite && $0.remaining >= 0 })
        #expect(seen.last?.remaining == 0)
        #expect(seen.map(\.record.learningRate) == [0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625])
    }

    /// A run with schedule, scale and checkpoints stopped after 5 of 12 iterations and resumed
    /// equals the uninterrupted run bit for bit (log and θ); a resume under another schedule,
    /// scale or learning rate is refused, naming the setting.
    @Test func resumedRunEqualsTheUninterruptedOneAndOtherSettingsAreRefused() throws {
        let task = try task()
        func trainer(
            iterations: Int, directory: String?, schedule: LearningRateSchedule = .exponential(factor: 0.97),
            scale: [Double] = Self.start, learningRate: Double = 0.05
        ) -> Trainer<TrainingTask<AutodiffFitzHughNagumo, DormandPrince, Trace>, Adam> {
            Trainer(
                problem: task, method: BackpropagationThroughTime(), optimizer: Adam(learningRate: learningRate),
                configuration: TrainerConfiguration(
                    iterations: iterations, checkpointInterval: 4, learningRateSchedule: schedule, parameterScale: scale),
                checkpoints: directory.map { CheckpointStore(directory: $0) })
        }
        let whole = try trainer(iterations: 12, directory: nil).run()
        let directory = try TrainerTests.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var first = trainer(iterations: 12, directory: directory)
        let stopAfter = StopAfter(iterations: 5)
        first.shouldStop = { stopAfter.tick() }
        #expect(try first.run().nextIteration == 5)

        let refusals: [(Trainer<TrainingTask<AutodiffFitzHughNagumo, DormandPrince, Trace>, Adam>, String)] = [
            (trainer(iterations: 12, directory: directory, schedule: .exponential(factor: 0.9)), "learning-rate schedule"),
            (trainer(iterations: 12, directory: directory, scale: [1, 1, 1]), "parameter scale"),
            (trainer(iterations: 12, directory: directory, learningRate: 0.1), "learningRate"),
        ]
        for (other, field) in refusals {
            #expect {
                try other.run(resume: true)
            } throws: { error in
                guard case let TrainerError.checkpointMismatch(_, name, _, _) = error else { return false }
                return name == field
            }
        }
        let resumed = try trainer(iterations: 12, directory: directory).run(resume: true)
        #expect(resumed.log.map(\.deterministicPart) == whole.log.map(\.deterministicPart))
        #expect(resumed.parameters.map(\.bitPattern) == whole.parameters.map(\.bitPattern))
    }

    /// A task with loss parameters has no initial value for them: the fit refuses it before
    /// computing anything.
    @Test func taskWithLossParametersNeedsAnInitialization() throws {
        struct Offset: TaskLoss {
            var observationTimes: [Double] { [1] }
            var parameterNames: [String] { ["offset"] }
            func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
                let r = observations[0] - parameters[0]
                return LossGradient(value: r * r, integrals: [], observations: [2 * r, 0], parameters: [-2 * r])
            }
        }
        let task = try TrainingTask(
            name: "offset", system: AutodiffFitzHughNagumo(), timeSpan: (0, 2), integrator: Self.dopri, loss: Offset(), training: ["a"])
        #expect(throws: TrainingError.self) {
            try Trainer(problem: task, method: Quadratic(), optimizer: Adam(), configuration: TrainerConfiguration(iterations: 1)).run()
        }
    }
}
