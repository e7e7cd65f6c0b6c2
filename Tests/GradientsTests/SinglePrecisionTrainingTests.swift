import Foundation
import Testing
@testable import Gradients
import NeuroODE

/// Training in float32 (``Precision/f32``): ES accepts it and follows the float64 run; the methods
/// that differentiate or difference the discrete map refuse it before computing.
@Suite("float32 training")
struct SinglePrecisionTrainingTests {
    /// A small evidence problem: 6 neurons, batch 4, tokens held 1 ms (50 ms), in either precision.
    static func evidence(_ precision: Precision) throws -> EvidenceTask {
        try EvidenceTask(configuration: .init(
            neurons: 6, batchSize: 4, tokenDuration: 1, testTrials: 8, iterations: 1, samples: 8, precision: precision))
    }

    /// Loss and ES estimate at the initialization: float32 within 1e-4 relative of float64 in the
    /// loss, and the same estimate direction (cosine > 0.999) from the same noise.
    @Test func evidenceLossAndESEstimateMatchFloat64() throws {
        let double = try Self.evidence(.f64), single = try Self.evidence(.f32)
        let theta = try double.initialParameters(seed: 2)
        let es = EvolutionStrategy(samples: 8, sigma: 0.1, seed: 1, threads: 2)
        let a = try es.estimate(try double.task(iteration: 0, seed: 2), at: theta, iteration: 0)
        let b = try es.estimate(try single.task(iteration: 0, seed: 2), at: theta, iteration: 0)
        #expect(abs(a.loss - b.loss) <= 1e-4 * abs(a.loss), "loss f64 \(a.loss), f32 \(b.loss)")
        let dot = zip(a.gradient, b.gradient).map(*).reduce(0, +)
        let cosine = dot / (euclideanNorm(a.gradient) * euclideanNorm(b.gradient))
        #expect(cosine > 0.999, "cosine \(cosine)")
        #expect(abs(try double.evaluateTestMetric(at: theta, seed: 2) - single.evaluateTestMetric(at: theta, seed: 2)) <= 1.0 / 8)
    }

    /// Five ES iterations on the small evidence task: the float32 parameters stay within 1 % of the
    /// distance the float64 ones travelled.
    @Test func evidenceESTrainingFollowsFloat64() throws {
        func train(_ precision: Precision) throws -> (start: [Double], end: [Double]) {
            let problem = try Self.evidence(precision)
            let trainer = Trainer(
                problem: problem, method: EvolutionStrategy(samples: 8, sigma: 0.1, seed: 3, threads: 2),
                optimizer: Adam(learningRate: 5e-3),
                configuration: TrainerConfiguration(iterations: 5, seed: 3, evaluationInterval: 5))
            let result = try trainer.run()
            return (try problem.initialParameters(seed: 3), result.parameters)
        }
        let double = try train(.f64), single = try train(.f32)
        let travelled = euclideanNorm(zip(double.end, double.start).map(-))
        let apart = euclideanNorm(zip(double.end, single.end).map(-))
        #expect(travelled > 0)
        #expect(apart <= 1e-2 * travelled, "apart \(apart), travelled \(travelled)")
    }

    /// ES silences the turn-off neuron in float32 (600 ms horizon, Adam lr 0.5, 20 samples, σ = 1),
    /// as it does in float64, and the two runs' currents agree to 0.05 µA/cm² throughout.
    @Test func turnOffTrainsInFloat32() throws {
        func run(_ precision: Precision) throws -> TrainerState<Adam> {
            let problem = try TurnOffTraining(configuration: .init(
                horizon: 600, stepSize: 0.1, iterations: 30, learningRate: 0.5, samples: 20, sigma: 1, precision: precision))
            return try Trainer(
                problem: problem, method: EvolutionStrategy(samples: 20, sigma: 1, seed: 0, threads: 2),
                optimizer: Adam(learningRate: 0.5),
                configuration: TrainerConfiguration(iterations: 30, seed: 0, evaluationInterval: 10)).run()
        }
        let double = try run(.f64), single = try run(.f32)
        #expect(single.log.last!.loss < TurnOffTask.target, "float32 final loss \(single.log.last!.loss)")
        #expect(double.log.last!.loss < TurnOffTask.target)
        #expect(abs(double.parameters[0] - single.parameters[0]) < 0.05)
    }

    /// BPTT, the adjoints and finite differences refuse a float32 forward pass, naming themselves.
    @Test func differentiatingMethodsRefuseFloat32() throws {
        let task = try Self.evidence(.f32).task(iteration: 0, seed: 1)
        let theta = try Self.evidence(.f32).initialParameters(seed: 1)
        let methods: [any GradientMethod] = [
            BackpropagationThroughTime(), AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince()), AdjointMethod(variant: .full, backwardIntegrator: DormandPrince()), FiniteDifferences(),
        ]
        for method in methods {
            do {
                _ = try method.estimate(task, at: theta, iteration: 0)
                Issue.record("\(method.name) accepted a float32 forward pass")
            } catch let TrainingError.unsupported(message) {
                #expect(message.contains(method.name) && message.contains("f32"), "\(message)")
            }
        }
    }
}
