import NeuroODE

/// A model's flow without its events: the same right-hand side, pullback and (when it has one)
/// Jacobian, but no ``EventSystem`` conformance, so an integrator runs it as a smooth system.
///
/// The CVODES path of ``EventGradient`` integrates each smooth piece of a spiking trajectory, from
/// one post-reset state to the next event time, through CVODES' adjoint module: wrapped, the piece
/// ends at its stop time instead of at a root of its own event function (README "Gradients
/// through events").
struct SmoothPiece<Base: VectorJacobianProviding>: VectorJacobianProviding {
    /// The wrapped model; every requirement forwards to it.
    let base: Base

    var name: String { base.name }
    var dimension: Int { base.dimension }
    var parameterNames: [String] { base.parameterNames }
    var defaultParameters: [Double] { base.defaultParameters }
    var defaultInitialState: [Double] { base.defaultInitialState }
    var stateNames: [String] { base.stateNames }
    var voltageIndices: [Int] { base.voltageIndices }

    func validate(parameters: [Double]) throws(ODEError) {
        try base.validate(parameters: parameters)
    }

    func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        try base.evaluateRightHandSide(at: t, state: state, parameters: parameters, into: derivative)
    }

    func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws {
        try base.accumulatePullback(
            at: t, state: state, parameters: parameters, cotangent: cotangent,
            stateCotangent: stateCotangent, parameterCotangent: parameterCotangent)
    }
}

/// CVODE's Newton matrices use the model's own Jacobian when it has one.
extension SmoothPiece: JacobianProviding where Base: JacobianProviding {
    func evaluateJacobian(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) throws {
        try base.evaluateJacobian(at: t, state: state, parameters: parameters, into: jacobian)
    }
}
