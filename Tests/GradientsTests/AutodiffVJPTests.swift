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

/// Hodgkin–Huxley transcribed from SPEC (classic rates; the test points avoid the removable
/// singularities at −40 and −55 mV, where the hand-written model switches to a series).
struct DifferentiableHodgkinHuxley: DifferentiableODESystem {
    var name: String { "hodgkin-huxley (autodiff)" }
    var dimension: Int { 4 }
    var parameterNames: [String] { HodgkinHuxley.parameterNames }
    var defaultParameters: [Double] { HodgkinHuxley().defaultParameters }
    var defaultInitialState: [Double] { HodgkinHuxley().defaultInitialState }

    @differentiable(reverse, wrt: (y, p))
    func derivative(at t: Double, state y: [Double], parameters p: [Double]) -> [Double] {
        let v = y[0], m = y[1], h = y[2], n = y[3]
        let am = 0.1 * (v + 40) / (1 - exp(-(v + 40) / 10)), bm = 4 * exp(-(v + 65) / 18)
        let ah = 0.07 * exp(-(v + 65) / 20), bh = 1 / (1 + exp(-(v + 35) / 10))
        let an = 0.01 * (v + 55) / (1 - exp(-(v + 55) / 10)), bn = 0.125 * exp(-(v + 65) / 80)
        let current = p[7] - p[1] * m * m * m * h * (v - p[4]) - p[2] * n * n * n * n * (v - p[5]) - p[3] * (v - p[6])
        return [current / p[0], am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]
    }
}

/// ROBER as SPEC writes it.
struct DifferentiableRober: DifferentiableODESystem {
    var name: String { "rober (autodiff)" }
    var dimension: Int { 3 }
    var parameterNames: [String] { Rober.parameterNames }
    var defaultParameters: [Double] { Rober().defaultParameters }
    var defaultInitialState: [Double] { [1, 0, 0] }

    @differentiable(reverse, wrt: (y, p))
    func derivative(at t: Double, state y: [Double], parameters p: [Double]) -> [Double] {
        [-p[0] * y[0] + p[2] * y[1] * y[2], p[0] * y[0] - p[1] * y[1] * y[1] - p[2] * y[1] * y[2], p[1] * y[1] * y[1]]
    }
}

@Suite struct AutodiffBuiltInModelTests {
    func compare<A: VectorJacobianProviding, B: VectorJacobianProviding>(
        _ hand: A, _ auto: B, states: [[Double]], parameters: [Double]
    ) throws {
        for y in states {
            let lambda = (0..<y.count).map { Double($0 % 3) - 0.7 }
            let h = try AutodiffVJPTests().pullback(hand, y, parameters, lambda)
            let a = try AutodiffVJPTests().pullback(auto, y, parameters, lambda)
            for (x, z) in zip(h.0 + h.1, a.0 + a.1) {
                #expect(abs(x - z) <= 1e-10 * max(1, abs(z)), "\(hand.name) at \(y)")
            }
        }
    }

    @Test func hodgkinHuxley() throws {
        try compare(HodgkinHuxley(), DifferentiableHodgkinHuxley(),
                    states: [[-65, 0.05, 0.6, 0.32], [-20, 0.4, 0.3, 0.5], [30, 0.9, 0.1, 0.7]],
                    parameters: HodgkinHuxley().defaultParameters)
    }

    @Test func rober() throws {
        try compare(Rober(), DifferentiableRober(), states: [[1, 0, 0], [0.9, 3e-5, 0.1], [0.2, 1e-6, 0.8]],
                    parameters: Rober().defaultParameters)
    }
}
