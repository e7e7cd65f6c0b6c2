import Foundation
import Testing
@testable import Gradients
@testable import NeuroODE

/// The ROBER fit as a training problem: it trains exactly RoberFitTask's task, BP through CVODES
/// lowers the loss, and an unscaled network whose solve cannot finish stops the trainer.
@Suite struct RoberFitTrainingTests {
    /// Every iteration's task is RoberFitTask's at the same θ: same weights, same loss, in both
    /// scalings (the step budget only caps the solve, it does not change it).
    @Test(arguments: [true, false])
    func taskIsTheRoberFitTask(scaled: Bool) throws {
        var configuration = RoberFitTraining.Configuration.small
        configuration.scaled = scaled
        let problem = try RoberFitTraining(configuration: configuration)
        let reference = try RoberFitTask(scaled: scaled)
        let theta = reference.initialParameters(seed: 4)
        #expect(problem.initialParameters(seed: 4) == theta)
        #expect(problem.parameterNames == reference.model.parameterNames && theta.count == 188)
        let expected = try reference.task(at: theta)
        let expectedLoss = try expected.loss(at: theta)
        for iteration in [0, 7] {
            let task = problem.task(iteration: iteration, seed: 1)
            #expect(task.name == expected.name)
            #expect(task.trainedParameters == expected.trainedParameters)
            #expect(task.integrator.relativeTolerance == expected.integrator.relativeTolerance)
            #expect(try task.loss(at: theta) == expectedLoss)
        }
        if scaled {
            #expect(expectedLoss > 0.01 && expectedLoss < 10)
        }
    }

    @Test func defaultsAreSPECs() throws {
        let problem = try RoberFitTraining()
        guard case let .adam(adamW) = problem.defaults.optimizer else {
            Issue.record("expected AdamW, got \(problem.defaults.optimizer.name)")
            return
        }
        #expect(adamW.name == "adamw" && adamW.learningRate == 5e-3 && adamW.weightDecay == 1e-6)
        #expect(problem.target == TrainingTarget(quantity: .loss, threshold: 0.05, higherIsBetter: false))
        #expect(problem.name == "rober-fit")
        var unscaled = RoberFitTraining.Configuration.paper
        unscaled.scaled = false
        #expect(try RoberFitTraining(configuration: unscaled).name == "rober-fit-unscaled")
        unscaled.maxSteps = 0
        #expect(throws: ODEError.invalidParameter(name: "maxSteps", value: 0, reason: "must be at least 1")) {
            try RoberFitTraining(configuration: unscaled)
        }
    }

    /// Five AdamW steps on the adjoint's gradient: each lowers the scaled loss (from 0.333 at
    /// seed 0), and no weight moves by more than Adam's step bound: about lr per step (|m̂|/√v̂ ≤ 1
    /// up to the bias corrections' weights, under 1 % over five steps), plus the decay lr·λ·|θ|.
    @Test func adjointLowersTheScaledLoss() throws {
        let problem = try RoberFitTraining()
        let trainer = Trainer(
            problem: problem, method: AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince()),
            optimizer: problem.defaults.optimizer, configuration: TrainerConfiguration(iterations: 5))
        let state = try trainer.run()
        let losses = state.log.map(\.loss)
        #expect(state.log.allSatisfy { $0.event == nil }, "\(state.log.compactMap(\.event))")
        for k in 1..<losses.count { #expect(losses[k] < losses[k - 1], "\(losses)") }
        #expect(losses.last! < 0.999 * losses.first!, "\(losses)")
        let start = problem.initialParameters(seed: 0)
        for (after, before) in zip(state.parameters, start) {
            #expect(abs(after - before) <= 5 * 5e-3 * (1.01 + 1e-6 * 2 * abs(before)))
        }
    }

    /// Unscaled, the untrained network's solution grows without bound; the CVODES forward pass
    /// of the adjoint cannot finish within a small step budget, and with no rollback allowed the
    /// trainer stops at the first iteration naming the budget.
    @Test func unscaledAdjointStopsTheTrainer() throws {
        var configuration = RoberFitTraining.Configuration.small
        configuration.scaled = false
        configuration.maxSteps = 500
        let problem = try RoberFitTraining(configuration: configuration)
        let trainer = Trainer(
            problem: problem, method: AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince()),
            optimizer: problem.defaults.optimizer,
            configuration: TrainerConfiguration(iterations: 3, failuresBeforeRollback: 1, maximumRollbacks: 0))
        do {
            _ = try trainer.run()
            Issue.record("the unscaled adjoint trained")
        } catch let TrainerError.diverged(iteration, rollbacks, lastFailure) {
            #expect(iteration == 0 && rollbacks == 0)
            #expect(lastFailure.contains("step budget of 500 steps"), "\(lastFailure)")
        }
    }
}
