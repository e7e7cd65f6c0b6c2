import Foundation
import Testing
@testable import NeuroODE

/// The batched neural ODE (one GEMM per layer over the stacked copies) against the copy-by-copy
/// evaluation of the same network, and the per-thread scratch arena it works in.
@Suite("batched neural ODE")
struct NeuralODEBatchTests {
    static let systems: [NeuralODE] = [
        NeuralODE(layerSizes: [2, 16, 2], activation: .tanh, inputMap: .cube),
        NeuralODE(layerSizes: [3, 5, 5, 3], activation: .gelu, outputScale: [1, 1e-4, 2], finalActivation: true),
        NeuralODE(layerSizes: [2, 300, 2], activation: .tanh),
    ]

    /// Pseudo-random values in [−1.5, 1.5] (no seeded generator needed: any values serve).
    static func values(_ count: Int, _ salt: Double) -> [Double] {
        (0..<count).map { 1.5 * sin(Double($0) * 1.618 + salt) }
    }

    @Test(arguments: 0..<3)
    func rightHandSideEqualsCopyByCopy(index: Int) throws {
        let base = Self.systems[index], copies = 7, n = base.dimension
        let batched = BatchedSystem(base, batchSize: copies)
        let y = Self.values(n * copies, 0.3), p = base.initialParameters(seed: 4)
        let together = try batched.networkTestRightHandSide(0, y, p)
        for b in 0..<copies {
            let alone = try base.networkTestRightHandSide(0, Array(y[(b * n)..<((b + 1) * n)]), p)
            for i in 0..<n {
                #expect(abs(together[b * n + i] - alone[i]) <= 1e-14 * max(1, abs(alone[i])), "copy \(b), component \(i)")
            }
        }
    }

    @Test(arguments: 0..<3)
    func pullbackEqualsCopyByCopy(index: Int) throws {
        let base = Self.systems[index], copies = 5, n = base.dimension, np = base.parameterNames.count
        let batched = BatchedSystem(base, batchSize: copies)
        let y = Self.values(n * copies, 0.9), lambda = Self.values(n * copies, 2.1), p = base.initialParameters(seed: 5)
        var stateBar = [Double](repeating: 0.25, count: n * copies), parameterBar = [Double](repeating: -0.5, count: np)
        try batched.testPullback(y, p, lambda, &stateBar, &parameterBar)
        var expectedState = [Double](repeating: 0.25, count: n * copies), expectedParameters = [Double](repeating: -0.5, count: np)
        for b in 0..<copies {
            var part = Array(expectedState[(b * n)..<((b + 1) * n)])
            try base.testPullback(Array(y[(b * n)..<((b + 1) * n)]), p, Array(lambda[(b * n)..<((b + 1) * n)]), &part, &expectedParameters)
            expectedState.replaceSubrange((b * n)..<((b + 1) * n), with: part)
        }
        for (a, e) in zip(stateBar, expectedState) { #expect(abs(a - e) <= 1e-13 * max(1, abs(e))) }
        for (k, (a, e)) in zip(parameterBar, expectedParameters).enumerated() {
            #expect(abs(a - e) <= 1e-13 * max(1, abs(e)), "\(base.parameterNames[k])")
        }
    }

    /// The caching evaluation returns the plain right-hand side, and the pullback from its cache is
    /// the plain pullback, bit for bit (``PullbackCaching``: the same operations, run once).
    @Test(arguments: 0..<3)
    func cachedPullbackIsThePlainOne(index: Int) throws {
        let base = Self.systems[index], copies = 6, n = base.dimension, np = base.parameterNames.count
        let batched = BatchedSystem(base, batchSize: copies)
        let y = Self.values(n * copies, 1.3), lambda = Self.values(n * copies, 0.4), p = base.initialParameters(seed: 6)
        var cache = [Double](repeating: .nan, count: batched.pullbackCacheCount)
        var cachedDerivative = [Double](repeating: 0, count: n * copies)
        y.withUnsafeBufferPointer { y in
            p.withUnsafeBufferPointer { p in
                cachedDerivative.withUnsafeMutableBufferPointer { dydt in
                    cache.withUnsafeMutableBufferPointer { batched.evaluateRightHandSide(at: 0, state: y, parameters: p, into: dydt, keeping: $0) }
                }
            }
        }
        #expect(cachedDerivative == (try batched.networkTestRightHandSide(0, y, p)))
        var stateBar = [Double](repeating: 0.25, count: n * copies), parameterBar = [Double](repeating: -0.5, count: np)
        y.withUnsafeBufferPointer { y in
            p.withUnsafeBufferPointer { p in
                lambda.withUnsafeBufferPointer { lambda in
                    stateBar.withUnsafeMutableBufferPointer { sb in
                        parameterBar.withUnsafeMutableBufferPointer { pb in
                            cache.withUnsafeBufferPointer {
                                batched.accumulatePullback(
                                    at: 0, state: y, parameters: p, cotangent: lambda, stateCotangent: sb, parameterCotangent: pb, cached: $0)
                            }
                        }
                    }
                }
            }
        }
        var expectedState = [Double](repeating: 0.25, count: n * copies), expectedParameters = [Double](repeating: -0.5, count: np)
        try batched.testPullback(y, p, lambda, &expectedState, &expectedParameters)
        #expect(stateBar == expectedState)
        #expect(parameterBar == expectedParameters)
    }

    /// Nested buffers never overlap, survive the arena's growth, and each thread has its own.
    @Test func scratchArenaNestsAndGrows() {
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            ThreadScratch.withDoubles(1000) { outer in
                for k in 0..<1000 { outer[k] = Double(worker * 10_000 + k) }
                ThreadScratch.withDoubles(1_000_000) { inner in
                    for k in 0..<1_000_000 { inner[k] = -1 }
                    ThreadScratch.withDoubles(10) { innermost in for k in 0..<10 { innermost[k] = -2 } }
                }
                for k in 0..<1000 { precondition(outer[k] == Double(worker * 10_000 + k), "outer buffer overwritten") }
            }
        }
    }
}

extension ODESystem where Self: VectorJacobianProviding {
    /// Array wrapper of ``VectorJacobianProviding/accumulatePullback(at:state:parameters:cotangent:stateCotangent:parameterCotangent:)``.
    func testPullback(_ y: [Double], _ p: [Double], _ lambda: [Double], _ stateBar: inout [Double], _ parameterBar: inout [Double]) throws {
        try y.withUnsafeBufferPointer { yy in
            try p.withUnsafeBufferPointer { pp in
                try lambda.withUnsafeBufferPointer { ll in
                    try stateBar.withUnsafeMutableBufferPointer { sb in
                        try parameterBar.withUnsafeMutableBufferPointer { pb in
                            try accumulatePullback(at: 0, state: yy, parameters: pp, cotangent: ll, stateCotangent: sb, parameterCotangent: pb)
                        }
                    }
                }
            }
        }
    }
}
