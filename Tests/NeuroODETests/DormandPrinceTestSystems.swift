import Foundation
import Testing
@testable import NeuroODE

/// Small systems with known solutions for the Dormand–Prince tests (namespaced to keep them out of
/// other suites' way).
enum DormandPrinceTestSystems {
    /// y' = λy, λ the only parameter: y(t) = y₀·exp(λ(t − t₀)).
    struct Exponential: ODESystem {
        var name: String { "exponential" }
        var dimension: Int { 1 }
        var parameterNames: [String] { ["lambda"] }
        let defaultParameters: [Double]
        var defaultInitialState: [Double] { [1] }
        init(rate: Double) { defaultParameters = [rate] }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) { dydt[0] = p[0] * y[0] }
    }

    /// x'' = −ω²x as (x, v): x = cos ωt, v = −ω sin ωt from (1, 0).
    struct Oscillator: ODESystem {
        var name: String { "oscillator" }
        var dimension: Int { 2 }
        var parameterNames: [String] { ["omega"] }
        let defaultParameters: [Double]
        var defaultInitialState: [Double] { [1, 0] }
        init(omega: Double) { defaultParameters = [omega] }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = y[1]
            dydt[1] = -p[0] * p[0] * y[0]
        }
        static func exact(_ t: Double, omega: Double) -> [Double] { [cos(omega * t), -omega * sin(omega * t)] }
    }

    /// y' = y²: y = y₀/(1 − y₀t), which blows up at t = 1/y₀.
    struct Riccati: ODESystem {
        var name: String { "riccati" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [1] }
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) { dydt[0] = y[0] * y[0] }
    }

    /// y' = A y with a dense row-major A (the parameters).
    struct Linear: ODESystem {
        let dimension: Int
        var name: String { "linear" }
        var parameterNames: [String] { (0..<(dimension * dimension)).map { "A\($0)" } }
        let defaultParameters: [Double]
        let defaultInitialState: [Double]
        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            for i in 0..<dimension {
                var sum = 0.0
                for j in 0..<dimension { sum += p[i * dimension + j] * y[j] }
                dydt[i] = sum
            }
        }
    }

    /// The reference of Validation/linear_expm_reference.py.
    struct LinearReference: Decodable {
        let dimension: Int
        let A: [Double]
        let y0: [Double]
        let T: Double
        let yT: [Double]

        static func load() throws -> LinearReference {
            let url = try #require(Bundle.module.url(forResource: "linear_expm_reference", withExtension: "json", subdirectory: "References"))
            return try JSONDecoder().decode(LinearReference.self, from: Data(contentsOf: url))
        }
    }
}
