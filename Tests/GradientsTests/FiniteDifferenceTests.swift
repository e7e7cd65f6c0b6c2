import Foundation
import Testing
@testable import Gradients

/// f(x) = Σ sin(xᵢ)·xᵢ₊₁ + exp(x₀/3): gradient known in closed form.
struct AnalyticObjective: Objective {
    var parameterCount: Int { 4 }
    func loss(at x: [Double]) throws -> Double {
        (0..<3).reduce(exp(x[0] / 3)) { $0 + sin(x[$1]) * x[$1 + 1] }
    }
    func gradient(at x: [Double]) -> [Double] {
        var g = [Double](repeating: 0, count: 4)
        g[0] = exp(x[0] / 3) / 3
        for i in 0..<3 {
            g[i] += cos(x[i]) * x[i + 1]
            g[i + 1] += sin(x[i])
        }
        return g
    }
}

struct FailingObjective: Objective {
    struct Boom: Error {}
    var parameterCount: Int { 2 }
    func loss(at x: [Double]) throws -> Double {
        if x[1] > 1 { throw Boom() }
        return x[0] * x[1]
    }
}

@Suite struct FiniteDifferenceTests {
    @Test func centralDifferencesMatchTheAnalyticGradient() throws {
        let objective = AnalyticObjective()
        let x = [0.3, -1.2, 2.5, 0.7]
        let estimate = try FiniteDifferences().estimate(objective, at: x)
        for (got, want) in zip(estimate.gradient, objective.gradient(at: x)) {
            #expect(abs(got - want) <= 1e-8 * max(1, abs(want)))
        }
        #expect(estimate.report.forwardSolves == 9)
        #expect(estimate.loss == (try objective.loss(at: x)))
    }

    @Test func sameResultWithOneAndTwoThreads() throws {
        let x = [0.3, -1.2, 2.5, 0.7]
        let one = try FiniteDifferences(threads: 1).estimate(AnalyticObjective(), at: x)
        let two = try FiniteDifferences(threads: 2).estimate(AnalyticObjective(), at: x)
        #expect(one.gradient == two.gradient)
    }

    @Test func subsetOfIndices() throws {
        let x = [0.3, -1.2, 2.5, 0.7]
        let estimate = try FiniteDifferences().estimate(AnalyticObjective(), at: x, indices: [2])
        #expect(estimate.gradient.count == 1)
        #expect(abs(estimate.gradient[0] - AnalyticObjective().gradient(at: x)[2]) < 1e-8)
    }

    @Test func aFailingProbeIsReported() {
        #expect(throws: FailingObjective.Boom.self) {
            try FiniteDifferences(step: 0.1).estimate(FailingObjective(), at: [1, 1])
        }
    }
}
