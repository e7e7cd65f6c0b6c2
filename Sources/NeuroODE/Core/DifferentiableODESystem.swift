import _Differentiation

/// A system whose right-hand side is written as a `@differentiable(reverse)` Swift function, so
/// that Swift's automatic differentiation derives the vector–Jacobian products BPTT and the
/// adjoints need. Writing ``derivative(at:state:parameters:)`` is all a custom model has to do.
///
/// The price is speed: arrays are allocated per evaluation and the pullback is built per call.
/// Models on a hot path write ``ODESystem/evaluateRightHandSide(at:state:parameters:into:)`` and
/// ``VectorJacobianProviding/accumulatePullback(at:state:parameters:cotangent:stateCotangent:parameterCotangent:)``
/// by hand, and test them against this path.
public protocol DifferentiableODESystem: VectorJacobianProviding {
    /// f(t, y, θ), differentiable in y and θ.
    @differentiable(reverse, wrt: (state, parameters))
    func derivative(at t: Double, state: [Double], parameters: [Double]) -> [Double]
}

extension DifferentiableODESystem {
    /// Evaluates ``derivative(at:state:parameters:)``, copying through arrays (it allocates per call);
    /// throws ``ODEError/dimensionMismatch(what:expected:actual:)`` if it returns the wrong length.
    public func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into result: UnsafeMutableBufferPointer<Double>
    ) throws {
        let value = derivative(at: t, state: Array(state), parameters: Array(parameters))
        guard value.count == result.count else {
            throw ODEError.dimensionMismatch(what: "derivative returned by \(name)", expected: result.count, actual: value.count)
        }
        for i in value.indices { result[i] = value[i] }
    }

    /// The pullback of ``derivative(at:state:parameters:)`` by Swift's reverse-mode automatic
    /// differentiation, built per call (slow: for tests and prototypes, not hot paths).
    public func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws {
        let pullback = _Differentiation.pullback(at: Array(state), Array(parameters)) { y, p in
            derivative(at: t, state: y, parameters: p)
        }
        let (stateBar, parameterBar) = pullback(Array<Double>.DifferentiableView(Array(cotangent)))
        // A zero tangent may come back empty: only add what is there.
        for (i, value) in stateBar.base.enumerated() { stateCotangent[i] += value }
        for (i, value) in parameterBar.base.enumerated() { parameterCotangent[i] += value }
    }
}
