import _Differentiation
import NeuroODE

/// The FitzHugh–Nagumo neuron, a two-variable caricature of Hodgkin–Huxley excitability:
///
///     dv/dt = v − v³/3 − w + I
///     dw/dt = (v + a − b·w) / τ
///
/// v is a fast voltage-like variable, w a slow recovery variable, I the injected current and τ the
/// time-scale separation (τ = 1/ε; everything is dimensionless). With the classic a = 0.7,
/// b = 0.8, τ = 12.5 the resting state loses stability near I ≈ 0.33, and at I = 0.5 the neuron
/// fires periodically (period ≈ 37).
///
/// This one type is the whole model. Because ``derivative(at:state:parameters:)`` is
/// `@differentiable(reverse)`, Swift's automatic differentiation supplies the vector–Jacobian
/// products that BPTT and the adjoint methods need; ES and every integrator (dopri5, CVODE) need
/// only the right-hand side.
struct FitzHughNagumo: DifferentiableODESystem {
    var name: String { "fitzhugh-nagumo" }
    var dimension: Int { 2 }
    var stateNames: [String] { ["v", "w"] }
    var parameterNames: [String] { ["a", "b", "tau", "I"] }
    var defaultParameters: [Double] { [0.7, 0.8, 12.5, 0.5] }
    var defaultInitialState: [Double] { [-1.0, 1.0] }

    /// τ divides the recovery equation, so it must be positive.
    func validate(parameters: [Double]) throws(ODEError) {
        guard parameters[2] > 0 else {
            throw .invalidParameter(name: "tau", value: parameters[2], reason: "the time scale must be positive")
        }
    }

    @differentiable(reverse, wrt: (state, parameters))
    func derivative(at t: Double, state: [Double], parameters: [Double]) -> [Double] {
        let v = state[0], w = state[1]
        let a = parameters[0], b = parameters[1], tau = parameters[2], current = parameters[3]
        return [v - v * v * v / 3 - w + current, (v + a - b * w) / tau]
    }
}
