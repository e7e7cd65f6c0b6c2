import Foundation
import Testing
@testable import Gradients

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
