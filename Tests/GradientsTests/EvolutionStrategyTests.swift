import Foundation
import Testing
@testable import Gradients

/// f = ½ Σ cᵢ xᵢ² (+ shift): smoothing leaves a quadratic's gradient unchanged, so ES is unbiased for ∇f.
struct Quadratic: Objective {
    var curvature: [Double]
    var shift = 0.0
    var parameterCount: Int { curvature.count }
    func loss(at x: [Double]) throws -> Double {
        zip(curvature, x).reduce(shift) { $0 + 0.5 * $1.0 * $1.1 * $1.1 }
    }
}

struct Rosenbrock: Objective {
    var parameterCount: Int { 2 }
    func loss(at p: [Double]) throws -> Double {
        (1 - p[0]) * (1 - p[0]) + 100 * (p[1] - p[0] * p[0]) * (p[1] - p[0] * p[0])
    }
}

/// Fails (throws) wherever x₀ > `limit`.
struct Fragile: Objective {
    struct Blowup: Error {}
    var limit: Double
    var parameterCount: Int { 3 }
    func loss(at x: [Double]) throws -> Double {
        if x[0] > limit { throw Blowup() }
        return x.reduce(0) { $0 + $1 * $1 }
    }
}

@Suite struct EvolutionStrategyTests {
    @Test func mirroredEstimateIsUnbiasedOnAQuadratic() throws {
        // RELIABILITY.md: 10 mirrored pairs, σ = 0.3, 2000 repeats, |mean − ∇f|ᵢ < 4·sdᵢ/√2000.
        let objective = Quadratic(curvature: [1, 2, 3, 4, 5])
        let x = [Double](repeating: 1, count: 5)
        let es = EvolutionStrategy(samples: 20, sigma: 0.3, seed: 7, threads: 2)
        let repeats = 2000
        var sum = [Double](repeating: 0, count: 5), sumSquares = sum
        for iteration in 0..<repeats {
            let g = try es.estimate(objective: objective, at: x, iteration: iteration).gradient
            for i in 0..<5 {
                sum[i] += g[i]
                sumSquares[i] += g[i] * g[i]
            }
        }
        for i in 0..<5 {
            let mean = sum[i] / Double(repeats)
            let sd = (sumSquares[i] / Double(repeats) - mean * mean).squareRoot()
            #expect(abs(mean - objective.curvature[i]) < 4 * sd / Double(repeats).squareRoot(), "component \(i): mean \(mean), sd \(sd)")
            #expect(sd > 0)
        }
    }

    @Test func plainVariantIsUnbiasedToo() throws {
        let objective = Quadratic(curvature: [1, 2, 3])
        let x = [1.0, 1, 1]
        let es = EvolutionStrategy(samples: 20, sigma: 0.3, sampling: .plain, seed: 3, threads: 2)
        var sum = [0.0, 0, 0], sumSquares = sum
        let repeats = 2000
        for iteration in 0..<repeats {
            let g = try es.estimate(objective: objective, at: x, iteration: iteration).gradient
            for i in 0..<3 { sum[i] += g[i]; sumSquares[i] += g[i] * g[i] }
        }
        for i in 0..<3 {
            let mean = sum[i] / Double(repeats), sd = (sumSquares[i] / Double(repeats) - mean * mean).squareRoot()
            #expect(abs(mean - objective.curvature[i]) < 4 * sd / Double(repeats).squareRoot())
        }
    }

    @Test func addingAConstantLeavesTheEstimateUnchanged() throws {
        let x = [0.3, -0.7, 1.1]
        for rankShaping in [false, true] {
            let es = EvolutionStrategy(samples: 10, sigma: 0.2, rankShaping: rankShaping, seed: 11, threads: 2)
            let a = try es.estimate(objective: Quadratic(curvature: [1, 2, 3]), at: x, iteration: 4).gradient
            let b = try es.estimate(objective: Quadratic(curvature: [1, 2, 3], shift: 1000), at: x, iteration: 4).gradient
            for (u, v) in zip(a, b) {
                #expect(abs(u - v) <= (rankShaping ? 0 : 1e-9 * max(1, abs(u))))
            }
        }
    }

    @Test func sameSeedSameEstimateWithOneAndTwoThreads() throws {
        let x = [0.3, -0.7, 1.1, 2]
        for sampling in EvolutionStrategy.Sampling.allCases {
            let one = try EvolutionStrategy(samples: 16, sigma: 0.1, sampling: sampling, seed: 5, threads: 1)
                .estimate(objective: Quadratic(curvature: [1, 2, 3, 4]), at: x, iteration: 9)
            let two = try EvolutionStrategy(samples: 16, sigma: 0.1, sampling: sampling, seed: 5, threads: 2)
                .estimate(objective: Quadratic(curvature: [1, 2, 3, 4]), at: x, iteration: 9)
            #expect(one.gradient == two.gradient && one.loss == two.loss)
            let otherIteration = try EvolutionStrategy(samples: 16, sigma: 0.1, sampling: sampling, seed: 5, threads: 2)
                .estimate(objective: Quadratic(curvature: [1, 2, 3, 4]), at: x, iteration: 10)
            #expect(otherIteration.gradient != one.gradient)
        }
    }

    @Test func sphereConvergesWithRanksAndAdamForTenSeeds() throws {
        for seed in 0..<10 {
            let objective = Quadratic(curvature: [Double](repeating: 2, count: 10))
            let es = EvolutionStrategy(samples: 40, sigma: 0.05, rankShaping: true, seed: UInt64(seed), threads: 2)
            var optimizer = SafeguardedOptimizer(Adam(learningRate: 0.03))
            var x = [Double](repeating: 1, count: 10)
            for generation in 0..<100 {
                _ = optimizer.step(&x, gradient: try es.estimate(objective: objective, at: x, iteration: generation).gradient)
            }
            let f = try objective.loss(at: x)
            #expect(f < 1e-3, "seed \(seed): f = \(f)")
        }
    }

    @Test func rosenbrockConvergesForTenSeeds() throws {
        for seed in 0..<10 {
            let es = EvolutionStrategy(samples: 20, sigma: 0.02, rankShaping: true, seed: UInt64(seed), threads: 2)
            var optimizer = SafeguardedOptimizer(Adam(learningRate: 0.01))
            var x = [-1.2, 1.0]
            for generation in 0..<2000 {
                _ = optimizer.step(&x, gradient: try es.estimate(objective: Rosenbrock(), at: x, iteration: generation).gradient)
            }
            let f = try Rosenbrock().loss(at: x)
            #expect(f < 0.1, "seed \(seed): f = \(f)")
        }
    }

    @Test func failedSamplesAreCountedAndDroppedOrRankedWorst() throws {
        let x = [0.0, 0.5, -0.5]
        for rankShaping in [false, true] {
            let es = EvolutionStrategy(samples: 40, sigma: 0.5, rankShaping: rankShaping, seed: 2, threads: 2)
            let estimate = try es.estimate(objective: Fragile(limit: 0.6), at: x, iteration: 0)
            #expect(estimate.report.failedSamples > 0 && estimate.report.failedSamples < 20)
            #expect(estimate.gradient.allSatisfy { $0.isFinite })
        }
        let error = #expect(throws: TrainingError.self) {
            try EvolutionStrategy(samples: 40, sigma: 0.5, seed: 2).estimate(objective: Fragile(limit: -2), at: [-1.5, 0, 0], iteration: 0)
        }
        guard case .tooManyFailedSamples? = error else { Issue.record("\(String(describing: error))"); return }
    }

    @Test func badOptionsAreRejected() {
        #expect(throws: TrainingError.invalidOption(name: "sigma", value: "0.0", reason: "must be finite and positive")) {
            try EvolutionStrategy(sigma: 0).validate()
        }
        #expect(throws: TrainingError.invalidOption(name: "samples", value: "7", reason: "mirrored sampling needs an even count")) {
            try EvolutionStrategy(samples: 7).validate()
        }
    }

    @Test func centredRanksOnAHandMadeCase() {
        let ranks = EvolutionStrategy.centredRanks([99, 3, 1, .nan, 3, 2], from: 1)
        // Sorted losses: 1, 2, 3, 3, NaN(worst) → ranks 0, 1, 2.5, 2.5, 4 over n − 1 = 4.
        #expect(ranks[1] == 2.5 / 4 - 0.5 && ranks[4] == 2.5 / 4 - 0.5)
        #expect(ranks[2] == -0.5 && ranks[5] == 0.25 - 0.5 && ranks[3] == 0.5)
    }

    @Test func forwardOnlyMethodsCountTheirRightHandSideEvaluations() throws {
        // Leapfrog evaluates the right-hand side once per step, whatever θ: every ES sample and
        // every FD probe costs what one forward solve costs.
        let task = try TurnOffTask.make(horizon: 5)
        let perSolve = try task.forward(at: [100]).statistics.rightHandSideEvaluations
        #expect(perSolve == 50)
        let es = try EvolutionStrategy(samples: 6, sigma: 0.5, seed: 1).estimate(task, at: [100], iteration: 0)
        #expect(es.report.forwardSolves == 7 && es.report.rightHandSideEvaluations == 7 * perSolve)
        let fd = try FiniteDifferences().estimate(task, at: [100], iteration: 0)
        #expect(fd.report.forwardSolves == 3 && fd.report.rightHandSideEvaluations == 3 * perSolve)
    }
}
