/// An ``EventSystem`` that can differentiate its events: the reset y⁺ = h(y⁻, θ) of each event and
/// its event function g(t, y, θ). With these (and the flow's own derivatives) a gradient method can
/// carry sensitivities through a reset: the event time moves by the implicit function theorem and
/// the state sensitivity jumps by the saltation matrix (README "Gradients through events").
public protocol DifferentiableEventSystem: EventSystem {
    /// **Adds** λᵀ ∂h/∂y to `stateCotangent` and λᵀ ∂h/∂θ to `parameterCotangent`, for the reset of
    /// event `index` applied at time `t` to `state` (the state just before the event), and returns
    /// λᵀ ∂h/∂t (nonzero for a reset that writes the event time into the state).
    func accumulateResetPullback(
        _ index: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>) -> Double

    /// **Writes** ∂gᵢ/∂y into `stateGradient` and ∂gᵢ/∂θ into `parameterGradient` for event function
    /// `index` at (t, y), and returns ∂gᵢ/∂t.
    func eventFunctionGradient(
        _ index: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        stateGradient: UnsafeMutableBufferPointer<Double>, parameterGradient: UnsafeMutableBufferPointer<Double>) -> Double
}
