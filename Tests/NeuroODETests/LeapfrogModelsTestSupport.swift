import Foundation
import Testing
@testable import NeuroODE

/// Shared helpers of the leapfrog and model tests: reference files, array wrappers around the
/// buffer-based model API, and central differences (the independent check of hand-written
/// derivatives: only f itself is shared with the code under test).
enum LeapfrogModelsTestSupport {
    /// Decodes `References/<name>.json`, written by `Validation/<name>.py`.
    static func reference<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let url = try #require(
            Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "References"),
            "missing References/\(name).json: run Validation/\(name).py")
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    static func rightHandSide<S: ODESystem>(_ system: S, _ y: [Double], _ p: [Double], t: Double = 0) throws -> [Double] {
        var out = [Double](repeating: .nan, count: system.dimension)
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                try out.withUnsafeMutableBufferPointer {
                    try system.evaluateRightHandSide(at: t, state: yb, parameters: pb, into: $0)
                }
            }
        }
        return out
    }

    /// Column-major n × n Jacobian from the system.
    static func jacobian<S: JacobianProviding>(_ system: S, _ y: [Double], _ p: [Double]) throws -> [Double] {
        let n = system.dimension
        var out = [Double](repeating: .nan, count: n * n)
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                try out.withUnsafeMutableBufferPointer {
                    try system.evaluateJacobian(at: 0, state: yb, parameters: pb, into: $0)
                }
            }
        }
        return out
    }

    /// (λᵀ∂f/∂y, λᵀ∂f/∂θ) accumulated onto the given starting cotangents.
    static func pullback<S: VectorJacobianProviding>(
        _ system: S, _ y: [Double], _ p: [Double], _ lambda: [Double],
        stateStart: [Double], parameterStart: [Double]
    ) throws -> (state: [Double], parameters: [Double]) {
        var sc = stateStart, pc = parameterStart
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                try lambda.withUnsafeBufferPointer { lb in
                    try sc.withUnsafeMutableBufferPointer { scb in
                        try pc.withUnsafeMutableBufferPointer { pcb in
                            try system.accumulatePullback(
                                at: 0, state: yb, parameters: pb, cotangent: lb, stateCotangent: scb, parameterCotangent: pcb)
                        }
                    }
                }
            }
        }
        return (sc, pc)
    }

    /// Central difference of f with respect to y[j] (column j of the Jacobian).
    static func stateDifference<S: ODESystem>(_ system: S, _ y: [Double], _ p: [Double], _ j: Int) throws -> [Double] {
        let h = 1e-6 * max(1, abs(y[j]))
        var up = y, down = y
        up[j] += h
        down[j] -= h
        let fu = try rightHandSide(system, up, p), fd = try rightHandSide(system, down, p)
        return zip(fu, fd).map { ($0 - $1) / (2 * h) }
    }

    /// Central difference of f with respect to p[k].
    static func parameterDifference<S: ODESystem>(_ system: S, _ y: [Double], _ p: [Double], _ k: Int) throws -> [Double] {
        let h = 1e-6 * max(1, abs(p[k]))
        var up = p, down = p
        up[k] += h
        down[k] -= h
        let fu = try rightHandSide(system, y, up), fd = try rightHandSide(system, y, down)
        return zip(fu, fd).map { ($0 - $1) / (2 * h) }
    }

    /// Checks the Jacobian and the pullback (which must add to its inputs) against central differences.
    static func checkDerivatives<S: JacobianProviding & VectorJacobianProviding>(
        _ system: S, state y: [Double], parameters p: [Double], cotangent lambda: [Double],
        tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let n = system.dimension
        let jac = try jacobian(system, y, p)
        var columns: [[Double]] = []
        for j in 0..<n {
            let column = try stateDifference(system, y, p, j)
            columns.append(column)
            for i in 0..<n {
                #expect(abs(jac[i + n * j] - column[i]) <= tolerance * max(1, abs(column[i])),
                        "J[\(i),\(j)] = \(jac[i + n * j]) vs \(column[i]) at y = \(y)", sourceLocation: sourceLocation)
            }
        }
        // Accumulate onto non-zero starting values to check the "adds" contract.
        let stateStart = (0..<n).map { 0.25 * Double($0 + 1) }
        let parameterStart = (0..<p.count).map { -0.5 * Double($0 + 1) }
        let (sc, pc) = try pullback(system, y, p, lambda, stateStart: stateStart, parameterStart: parameterStart)
        for j in 0..<n {
            let expected = (0..<n).reduce(0.0) { $0 + lambda[$1] * columns[j][$1] }
            #expect(abs(sc[j] - stateStart[j] - expected) <= tolerance * max(1, abs(expected)),
                    "state cotangent \(j) at y = \(y)", sourceLocation: sourceLocation)
        }
        for k in 0..<p.count {
            let column = try parameterDifference(system, y, p, k)
            let expected = (0..<n).reduce(0.0) { $0 + lambda[$1] * column[$1] }
            #expect(abs(pc[k] - parameterStart[k] - expected) <= tolerance * max(1, abs(expected)),
                    "parameter cotangent \(system.parameterNames[k]) at y = \(y)", sourceLocation: sourceLocation)
        }
    }
}
