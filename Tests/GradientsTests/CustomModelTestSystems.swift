import _Differentiation
import NeuroODE

/// FitzHugh–Nagumo, dv/dt = v − v³/3 − w + I, dw/dt = (v + a − b·w)/τ, θ = (a, b, τ, I),
/// transcribed here independently of the example target, in each of the forms a user may write:
/// autodiff, plain right-hand side only, hand-written pullback, and Jacobian without pullback.
enum FitzHughNagumoEquations {
    static let parameterNames = ["a", "b", "tau", "I"]
    static let parameters = [0.7, 0.8, 12.5, 0.5]
    static let initialState = [-1.0, 1.0]

    static func rightHandSide(_ y: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>, _ f: UnsafeMutableBufferPointer<Double>) {
        let v = y[0], w = y[1]
        f[0] = v - v * v * v / 3 - w + p[3]
        f[1] = (v + p[0] - p[1] * w) / p[2]
    }
}

/// The members every form shares: size, names, defaults.
protocol FitzHughNagumoShape: ODESystem {}

extension FitzHughNagumoShape {
    var dimension: Int { 2 }
    var parameterNames: [String] { FitzHughNagumoEquations.parameterNames }
    var defaultParameters: [Double] { FitzHughNagumoEquations.parameters }
    var defaultInitialState: [Double] { FitzHughNagumoEquations.initialState }
}

/// A form whose right-hand side is written into caller storage (all but the autodiff one).
protocol FitzHughNagumoForm: FitzHughNagumoShape {}

extension FitzHughNagumoForm {
    func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        FitzHughNagumoEquations.rightHandSide(state, parameters, derivative)
    }
}

struct AutodiffFitzHughNagumo: DifferentiableODESystem, FitzHughNagumoShape {
    var name: String { "fhn-autodiff" }

    @differentiable(reverse, wrt: (state, parameters))
    func derivative(at t: Double, state: [Double], parameters: [Double]) -> [Double] {
        let v = state[0], w = state[1]
        return [v - v * v * v / 3 - w + parameters[3], (v + parameters[0] - parameters[1] * w) / parameters[2]]
    }
}

/// Only the right-hand side: gradients must fall back to finite differences.
struct PlainFitzHughNagumo: ODESystem, FitzHughNagumoForm {
    var name: String { "fhn-plain" }
}

/// The right-hand side with a hand-derived pullback:
/// ∂f/∂y = [[1 − v², −1], [1/τ, −b/τ]], ∂f₁/∂θ = (0, 0, 0, 1), ∂f₂/∂θ = (1/τ, −w/τ, −f₂/τ, 0).
struct HandVJPFitzHughNagumo: VectorJacobianProviding, FitzHughNagumoForm {
    var name: String { "fhn-hand" }

    func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent l: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws {
        let v = state[0], w = state[1], tau = p[2]
        let f2 = (v + p[0] - p[1] * w) / tau
        stateCotangent[0] += l[0] * (1 - v * v) + l[1] / tau
        stateCotangent[1] += -l[0] - l[1] * p[1] / tau
        parameterCotangent[0] += l[1] / tau
        parameterCotangent[1] += -l[1] * w / tau
        parameterCotangent[2] += -l[1] * f2 / tau
        parameterCotangent[3] += l[0]
    }
}

/// A Jacobian but no pullback: the fallback takes ∂f/∂y from it and differences only θ.
struct JacobianFitzHughNagumo: JacobianProviding, FitzHughNagumoForm {
    var name: String { "fhn-jacobian" }

    func evaluateJacobian(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) throws {
        jacobian[0] = 1 - state[0] * state[0]  // (0, 0)
        jacobian[1] = 1 / p[2]                 // (1, 0)
        jacobian[2] = -1                       // (0, 1)
        jacobian[3] = -p[1] / p[2]             // (1, 1)
    }
}

/// A damped oscillator whose right-hand side fails from `faultTime` on: by throwing, or by
/// returning NaN or +∞ in its second component.
struct FaultyOscillator: ODESystem {
    enum Fault: String, Sendable, CaseIterable {
        case throwing, nan, infinity
    }

    struct ModelFailure: Error, CustomStringConvertible {
        var description: String { "lookup table exhausted" }
    }

    var fault: Fault
    var faultTime = 5.0

    var name: String { "faulty-oscillator" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["k"] }
    var defaultParameters: [Double] { [1.0] }
    var defaultInitialState: [Double] { [1.0, 0.0] }

    func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        derivative[0] = state[1]
        derivative[1] = -parameters[0] * state[0] - 0.1 * state[1]
        guard t >= faultTime else { return }
        switch fault {
        case .throwing: throw ModelFailure()
        case .nan: derivative[1] = .nan
        case .infinity: derivative[1] = .infinity
        }
    }
}
