import Foundation
import Testing
@testable import Gradients
import NeuroODE

@Suite struct LossTests {
    @Test func trajectoryMatchingOnAHandMadeCase() {
        // Two times, three components, scale (1, 2, 4); only components 0 and 2 compared.
        let loss = TrajectoryMatchingLoss(
            times: [1, 2], targets: [1, 0, 4, 0, 0, 0], dimension: 3, metric: .meanAbsolute, scale: [1, 2, 4], components: [0, 2])
        let g = loss.valueAndGradient(integrals: [], observations: [2, 9, 0, -1, 9, 8], parameters: [])
        // |2−1|/1 + |0−4|/4 + |−1−0|/1 + |8−0|/4 = 1 + 1 + 1 + 2 = 5 over 4 entries.
        #expect(g.value == 1.25)
        #expect(g.observations == [0.25, 0, -1.0 / 16, -0.25, 0, 1.0 / 16])
        let squared = TrajectoryMatchingLoss(times: [0], targets: [1, 1], dimension: 2, metric: .meanSquared)
        let s = squared.valueAndGradient(integrals: [], observations: [3, 0], parameters: [])
        #expect(s.value == 2.5 && s.observations == [2, -1])
    }

    @Test func gradientsMatchCentralDifferences() {
        let loss = TrajectoryMatchingLoss(times: [1, 2], targets: [0.3, -0.2, 1.5, 2.0], dimension: 2, metric: .meanSquared, scale: [2, 3])
        let y = [0.7, 0.1, 1.0, 2.6]
        let g = loss.valueAndGradient(integrals: [], observations: y, parameters: []).observations
        for i in y.indices {
            var up = y, down = y
            up[i] += 1e-6
            down[i] -= 1e-6
            let fd = (loss.value(integrals: [], observations: up, parameters: []) - loss.value(integrals: [], observations: down, parameters: [])) / 2e-6
            #expect(abs(fd - g[i]) < 1e-8)
        }
    }

    /// Three trials of two components, scaled, one component left out: the trial ranges' values and
    /// observation gradients add up to the whole loss's (the parts keep its divisor).
    @Test func trajectoryMatchingSplitsByTrial() throws {
        let times = [0.5, 1.0]
        let targets = (0..<12).map { Double($0) * 0.3 - 1 }, y = (0..<12).map { sin(Double($0)) }
        let scale = [1.0, 2, 1, 2, 1, 2]
        for metric in TrajectoryMatchingLoss.Metric.allCases {
            let whole = TrajectoryMatchingLoss(
                times: times, targets: targets, dimension: 6, metric: metric, scale: scale, components: [0, 1, 2, 4, 5], trialDimension: 2)
            #expect(whole.trialCount == 3)
            let reference = whole.valueAndGradient(integrals: [], observations: y, parameters: [])
            var value = 0.0, gradient = [Double](repeating: 0, count: 12)
            for range in [0..<1, 1..<3] {
                let part = try whole.restricted(toTrials: range)
                let columns = (2 * range.lowerBound)..<(2 * range.upperBound)
                let observed = times.indices.flatMap { k in columns.map { y[6 * k + $0] } }
                let g = part.valueAndGradient(integrals: [], observations: observed, parameters: [])
                value += g.value
                for (k, _) in times.enumerated() {
                    for (j, column) in columns.enumerated() { gradient[6 * k + column] = g.observations[k * columns.count + j] }
                }
            }
            #expect(abs(value - reference.value) < 1e-14)
            #expect(gradient == reference.observations)
        }
        #expect(throws: ODEError.self) { try TrajectoryMatchingLoss(times: [0], targets: [0, 0], dimension: 2).restricted(toTrials: 0..<2) }
    }

    @Test func stateIntegralPullbackIsItsWeights() {
        let loss = StateIntegralLoss(weights: [0, 0, 1])
        var r = [0.0], bar = [0.0, 0, 0]
        let y = [0.2, 0.3, 0.5]
        y.withUnsafeBufferPointer { yb in
            r.withUnsafeMutableBufferPointer { loss.evaluateIntegrands(at: 0, state: yb, into: $0) }
            [2.0].withUnsafeBufferPointer { c in bar.withUnsafeMutableBufferPointer { loss.accumulateIntegrandPullback(at: 0, state: yb, cotangent: c, into: $0) } }
        }
        #expect(r == [0.5] && bar == [0, 0, 2])
    }
}
