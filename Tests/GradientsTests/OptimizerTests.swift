import Foundation
import Testing
@testable import Gradients

@Suite struct OptimizerTests {
    /// f(x) = ½ Σ cᵢ xᵢ², minimum 0 at the origin.
    static let curvature = [1.0, 2, 3, 4, 5]
    static func quadratic(_ x: [Double]) -> (Double, [Double]) {
        let f = zip(curvature, x).reduce(0) { $0 + 0.5 * $1.0 * $1.1 * $1.1 }
        return (f, zip(curvature, x).map { $0 * $1 })
    }

    /// Rosenbrock f = (1 − x)² + 100(y − x²)², minimum 0 at (1, 1).
    static func rosenbrock(_ p: [Double]) -> (Double, [Double]) {
        let x = p[0], y = p[1]
        let f = (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x)
        return (f, [-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
    }

    func minimize(_ optimizer: some Optimizer, from start: [Double], iterations: Int,
                  _ objective: ([Double]) -> (Double, [Double])) -> Double {
        var guarded = SafeguardedOptimizer(optimizer)
        var x = start
        for _ in 0..<iterations {
            _ = guarded.step(&x, gradient: objective(x).1)
        }
        return objective(x).0
    }

    @Test(arguments: [
        GradientDescent(learningRate: 0.1) as any Optimizer,
        GradientDescent(learningRate: 0.05, momentum: 0.9),
        Adam(learningRate: 0.05),
        Adam.adamW(learningRate: 0.05, weightDecay: 1e-4),
        RMSprop(learningRate: 1e-3),
    ])
    func minimizesAQuadratic(optimizer: any Optimizer) {
        // RMSprop takes near-sign steps of length ≈ η, so it hovers within ~η of the minimum.
        let f = minimize(optimizer, from: [1, 1, 1, 1, 1], iterations: 3000, Self.quadratic)
        #expect(f < 1e-4, "\(optimizer.name) reached \(f) from 7.5")
    }

    @Test func adamMinimizesRosenbrock() {
        let f = minimize(Adam(learningRate: 0.01), from: [-1.2, 1], iterations: 20_000, Self.rosenbrock)
        #expect(f < 1e-4, "Adam reached \(f)")
    }

    @Test func momentumDescentMinimizesRosenbrock() {
        let f = minimize(GradientDescent(learningRate: 2e-4, momentum: 0.9), from: [-1.2, 1], iterations: 50_000, Self.rosenbrock)
        #expect(f < 1e-4, "SGD+momentum reached \(f)")
    }

    @Test func adamFirstStepHasLengthLearningRate() {
        // With bias correction the first step is η·g/(|g| + ε) per coordinate, whatever the scale of g.
        var adam = Adam(learningRate: 0.1)
        var x = [0.0, 0.0, 0.0]
        adam.update(&x, gradient: [3.0, -1e-3, 250.0])
        for (got, sign) in zip(x, [-1.0, 1.0, -1.0]) {
            #expect(abs(got - sign * 0.1) < 1e-6)
        }
    }

    @Test func adamWDecaysWithZeroGradient() {
        var adamW = Adam.adamW(learningRate: 0.1, weightDecay: 0.5)
        var x = [2.0]
        adamW.update(&x, gradient: [0])
        #expect(abs(x[0] - 2.0 * (1 - 0.1 * 0.5)) < 1e-15)
    }

    @Test func nonFiniteGradientSkipsWithoutTouchingState() {
        var guarded = SafeguardedOptimizer(Adam(learningRate: 0.1))
        var reference = SafeguardedOptimizer(Adam(learningRate: 0.1))
        var x = [1.0, 2.0], y = [1.0, 2.0]
        #expect(guarded.step(&x, gradient: [.nan, 1]) == .skippedNonFinite(index: 0))
        #expect(guarded.step(&x, gradient: [1, .infinity]) == .skippedNonFinite(index: 1))
        #expect(x == [1.0, 2.0])
        _ = guarded.step(&x, gradient: [0.5, -0.25])
        _ = reference.step(&y, gradient: [0.5, -0.25])
        #expect(x == y, "skipped steps must not advance the moments")
        #expect(guarded.skippedSteps == 2 && guarded.appliedSteps == 1)
    }

    @Test func clippingRescalesToTheLimit() {
        var guarded = SafeguardedOptimizer(GradientDescent(learningRate: 1), maxGradientNorm: 10)
        var x = [0.0, 0.0]
        let outcome = guarded.step(&x, gradient: [30, 40])
        #expect(outcome == .applied(norm: 50, clipped: true))
        #expect(abs(x[0] + 6) < 1e-12 && abs(x[1] + 8) < 1e-12)
    }

    @Test func stateSurvivesEncodingBitIdentically() throws {
        var first = Adam(learningRate: 0.05)
        var x = [1.0, -2.0, 0.5]
        for _ in 0..<5 { first.update(&x, gradient: x.map { 2 * $0 }) }
        let restored = try JSONDecoder().decode(Adam.self, from: JSONEncoder().encode(first))
        var a = first, b = restored, xa = x, xb = x
        for _ in 0..<5 {
            a.update(&xa, gradient: xa.map { 2 * $0 })
            b.update(&xb, gradient: xb.map { 2 * $0 })
        }
        #expect(xa == xb)
    }

    @Test func normIsOverflowSafe() {
        #expect(abs(euclideanNorm([3e200, 4e200]) / 5e200 - 1) < 1e-15)
        #expect(euclideanNorm([0, 0]) == 0)
    }
}
