import _Differentiation
import Foundation
import Testing
@testable import NeuroODE

/// A user-defined model (FitzHugh–Nagumo, as in the custom-model example) simulated by every
/// integrator that takes a general ``ODESystem``, in the two forms a user may write — autodiff and
/// plain right-hand side — against SciPy's DOP853 at rtol 1e-13 (Validation/fitzhugh_nagumo.py).
@Suite struct CustomModelSimulationTests {
    struct Autodiff: DifferentiableODESystem {
        var name: String { "fhn-autodiff" }
        var dimension: Int { 2 }
        var parameterNames: [String] { ["a", "b", "tau", "I"] }
        var defaultParameters: [Double] { [0.7, 0.8, 12.5, 0.5] }
        var defaultInitialState: [Double] { [-1.0, 1.0] }

        @differentiable(reverse, wrt: (state, parameters))
        func derivative(at t: Double, state: [Double], parameters: [Double]) -> [Double] {
            let v = state[0], w = state[1]
            return [v - v * v * v / 3 - w + parameters[3], (v + parameters[0] - parameters[1] * w) / parameters[2]]
        }
    }

    /// Only the right-hand side: CVODE must fall back to its difference-quotient Jacobian.
    struct Plain: ODESystem {
        var name: String { "fhn-plain" }
        var dimension: Int { 2 }
        var parameterNames: [String] { ["a", "b", "tau", "I"] }
        var defaultParameters: [Double] { [0.7, 0.8, 12.5, 0.5] }
        var defaultInitialState: [Double] { [-1.0, 1.0] }

        func evaluateRightHandSide(
            at t: Double, state: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into f: UnsafeMutableBufferPointer<Double>
        ) throws {
            let v = state[0], w = state[1]
            f[0] = v - v * v * v / 3 - w + p[3]
            f[1] = (v + p[0] - p[1] * w) / p[2]
        }
    }

    struct Reference: Decodable {
        let times: [Double]
        let states: [[Double]]
    }

    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "fitzhugh_nagumo", withExtension: "json", subdirectory: "References"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static let integrators: [any Integrator] = [
        DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12),
        CVODE(method: .bdf, relativeTolerance: 1e-10, absoluteTolerance: 1e-12),
        CVODE(method: .adams, relativeTolerance: 1e-10, absoluteTolerance: 1e-12),
    ]

    func check<S: ODESystem, M: Integrator>(_ system: S, _ integrator: M, _ reference: Reference) throws {
        let solution = try integrator.solve(ODEProblem(system: system, timeSpan: (0, 60)), output: .times(reference.times))
        #expect(solution.times == reference.times)
        for (k, expected) in reference.states.enumerated() {
            let state = Array(solution.state(at: k))
            for i in 0..<2 {
                // Local errors at rtol 1e-10 accumulate along the cycle to ~2e-8 by t = 60 (measured).
                #expect(abs(state[i] - expected[i]) <= 2e-7, "\(system.name) \(integrator.name) t = \(reference.times[k]) y[\(i)]")
            }
        }
    }

    @Test(arguments: integrators.indices)
    func autodiffAndPlainFormsMatchSciPy(index: Int) throws {
        let reference = try Self.reference()
        try check(Autodiff(), Self.integrators[index], reference)
        try check(Plain(), Self.integrators[index], reference)
    }

    @Test func leapfrogNeedsAConductanceBasedModel() throws {
        #expect(throws: ODEError.self) { try Leapfrog().solve(ODEProblem(system: Plain(), timeSpan: (0, 10))) }
    }
}
