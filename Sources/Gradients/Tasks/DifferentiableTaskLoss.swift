import _Differentiation

/// A user-defined loss written as plain `@differentiable(reverse)` Swift functions, whose
/// derivatives come from Swift's automatic differentiation:
///
///     L = ∫ ℓ(t, y) dt + Σₖ φₖ(y(tₖ), θ_L)
///
/// ℓ is the running cost (integrated over the task's horizon by the integrator), φₖ the cost of the
/// state observed at ``TaskLoss/observationTimes`` tₖ, and θ_L the loss's own trainable parameters
/// (``TaskLoss/parameterNames``, empty by default). A terminal cost is the observation cost at a
/// last observation time equal to the horizon's end. Conforming supplies everything ``TaskLoss``
/// asks of BPTT and the adjoints: r = ℓ and its pullback, Φ and its gradient.
///
/// Write only what the loss has: ``runningCost(at:state:)`` defaults to none and
/// ``observationCost(at:time:state:parameters:)`` to zero. **Set ``hasRunningCost`` to `true`
/// when writing a running cost**: it is what adds the running integral to the solve (a loss
/// without one carries no extra quadrature state), and a running cost with it left `false` is
/// ignored.
///
/// Like `DifferentiableODESystem` this trades speed for brevity: every evaluation copies the
/// state into an array, and every pullback builds one (the running cost's runs once per step of
/// the reverse pass). Hot losses implement ``TaskLoss`` by hand and test against this path.
public protocol DifferentiableTaskLoss: TaskLoss {
    /// Whether the loss has a running cost ℓ (default `false`).
    var hasRunningCost: Bool { get }

    /// ℓ(t, y), integrated over the horizon. Default: 0 (no running cost).
    @differentiable(reverse, wrt: state)
    func runningCost(at t: Double, state: [Double]) -> Double

    /// φₖ(y(tₖ), θ_L), the cost of the state at observation `index` (time `time`).
    /// Default: 0 (no observation costs).
    @differentiable(reverse, wrt: (state, parameters))
    func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double
}

extension DifferentiableTaskLoss {
    /// Default: no running cost.
    public var hasRunningCost: Bool { false }

    /// Default: 0.
    @differentiable(reverse, wrt: state)
    public func runningCost(at t: Double, state: [Double]) -> Double { 0 }

    /// Default: 0.
    @differentiable(reverse, wrt: (state, parameters))
    public func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double { 0 }

    /// One integrand (the running cost) when ``hasRunningCost``, otherwise none.
    public var integrandCount: Int { hasRunningCost ? 1 : 0 }

    public func evaluateIntegrands(at t: Double, state: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        values[0] = runningCost(at: t, state: Array(state))
    }

    /// Adds the running cost's state gradient, by reverse-mode automatic differentiation.
    public func accumulateIntegrandPullback(
        at t: Double, state: UnsafeBufferPointer<Double>, cotangent: UnsafeBufferPointer<Double>,
        into stateCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        let gradient = _Differentiation.gradient(at: Array(state)) { y in runningCost(at: t, state: y) }
        // A zero tangent may come back empty: only add what is there.
        for (i, value) in gradient.base.enumerated() { stateCotangent[i] += cotangent[0] * value }
    }

    /// Φ = Q (if there is a running cost) + Σₖ observationCost(k, tₖ, yₖ, θ_L).
    public func value(integrals: [Double], observations: [Double], parameters: [Double]) -> Double {
        var total = hasRunningCost ? integrals[0] : 0
        let n = observationTimes.isEmpty ? 0 : observations.count / observationTimes.count
        for (k, time) in observationTimes.enumerated() {
            total += observationCost(at: k, time: time, state: Array(observations[(k * n)..<((k + 1) * n)]), parameters: parameters)
        }
        return total
    }

    /// Φ and its partials, the observation costs differentiated by reverse-mode automatic
    /// differentiation (allocates per observation: not for hot paths).
    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        var total = hasRunningCost ? integrals[0] : 0
        var observationBar = [Double](repeating: 0, count: observations.count)
        var parameterBar = [Double](repeating: 0, count: parameters.count)
        let n = observationTimes.isEmpty ? 0 : observations.count / observationTimes.count
        for (k, time) in observationTimes.enumerated() {
            let (cost, (stateBar, thetaBar)) = _Differentiation.valueWithGradient(
                at: Array(observations[(k * n)..<((k + 1) * n)]), parameters
            ) { y, theta in observationCost(at: k, time: time, state: y, parameters: theta) }
            total += cost
            for (i, value) in stateBar.base.enumerated() { observationBar[k * n + i] += value }
            for (i, value) in thetaBar.base.enumerated() { parameterBar[i] += value }
        }
        return LossGradient(
            value: total, integrals: hasRunningCost ? [1] : [], observations: observationBar, parameters: parameterBar)
    }
}
