import Foundation
import Testing
import _Differentiation
import NeuroODE

/// Morris–Lecar written once more, as a differentiable Swift function (an independent transcription
/// of SPEC's equations), so that Swift's autodiff supplies its pullback.
struct DifferentiableMorrisLecar: DifferentiableODESystem {
    var name: String { "morris-lecar (autodiff)" }
    var dimension: Int { 2 }
    var parameterNames: [String] { MorrisLecar.parameterNames }
    var defaultParameters: [Double] { MorrisLecar(preset: .hopf).defaultParameters }
    var defaultInitialState: [Double] { [-41.84, 0.5282] }

    @differentiable(reverse, wrt: (y, p))
    func derivative(at t: Double, state y: [Double], parameters p: [Double]) -> [Double] {
        let v = y[0], w = y[1]
        let mInf = 0.5 * (1 + tanh((v - p[7]) / p[8]))
        let wInf = 0.5 * (1 + tanh((v - p[9]) / p[10]))
        let rate = p[11] * cosh((v - p[9]) / (2 * p[10]))
        let dv = (p[1] * (p[4] - v) + p[2] * mInf * (p[5] - v) + p[3] * w * (p[6] - v) + p[12]) / p[0]
        return [dv, rate * (wInf - w)]
    }
}

@Suite struct AutodiffVJPTests {
    func pullback<S: VectorJacobianProviding>(_ s: S, _ y: [Double], _ p: [Double], _ lambda: [Double]) throws -> ([Double], [Double]) {
        var stateBar = [Double](repeating: 0, count: y.count), parameterBar = [Double](repeating: 0, count: p.count)
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                try lambda.withUnsafeBufferPointer { lb in
                    try stateBar.withUnsafeMutableBufferPointer { sb in
                        try parameterBar.withUnsafeMutableBufferPointer { qb in
                            try s.accumulatePullback(at: 0, state: yb, parameters: pb, cotangent: lb, stateCotangent: sb, parameterCotangent: qb)
                        }
                    }
                }
            }
        }
        return (stateBar, parameterBar)
    }

    @Test(arguments: MorrisLecar.Preset.allCases)
    func morrisLecarHandWrittenPullbackMatchesAutodiff(preset: MorrisLecar.Preset) throws {
        let p = MorrisLecar(preset: preset).defaultParameters
        for (y, lambda) in [([-41.84, 0.5282], [1.0, 0.0]), ([-10.0, 0.2], [0.3, -2.0]), ([25.0, 0.8], [-1.0, 4.0])] {
            let hand = try pullback(MorrisLecar(preset: preset), y, p, lambda)
            let auto = try pullback(DifferentiableMorrisLecar(), y, p, lambda)
            for (a, b) in zip(hand.0 + hand.1, auto.0 + auto.1) {
                #expect(abs(a - b) <= 1e-10 * max(1, abs(b)))
            }
        }
    }

    @Test func autodiffRightHandSideEqualsHandWritten() throws {
        let p = MorrisLecar().defaultParameters, y = [-20.0, 0.3]
        var hand = [0.0, 0], auto = [0.0, 0]
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                hand.withUnsafeMutableBufferPointer { MorrisLecar().evaluateRightHandSide(at: 0, state: yb, parameters: pb, into: $0) }
                try auto.withUnsafeMutableBufferPointer { try DifferentiableMorrisLecar().evaluateRightHandSide(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        for (a, b) in zip(hand, auto) { #expect(abs(a - b) <= 1e-13 * max(1, abs(a))) }
    }
}
