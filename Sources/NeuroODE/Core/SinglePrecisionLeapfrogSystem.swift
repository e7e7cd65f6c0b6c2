/// A conductance-based system that runs its own float32 leapfrog (``Leapfrog`` with
/// ``Precision/f32``).
///
/// The scheme is the float64 leapfrog's, step for step (the same stagger, midpoint extrapolation
/// and last-step shortening); only the arithmetic of the state update is float32. Whatever the
/// recorder asks for (outputs, spikes, running integrands) is still reported in float64, converted
/// from the float32 state, so losses and outputs need no second implementation.
public protocol SinglePrecisionLeapfrogSystem: ConductanceBasedSystem {
    /// Integrates from `initialState` over `timeSpan` with steps of `stepSize` in float32, reporting
    /// to `recorder` as ``Integrator/integrate(_:recorder:)`` does. `extrapolate` selects
    /// ``Leapfrog/InstantaneousVoltage/extrapolatedMidpoint`` (else `stepStart`).
    func integrateSinglePrecision(
        initialState: [Double], parameters: [Double], timeSpan: (start: Double, end: Double), stepSize: Double,
        extrapolate: Bool, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics
}
