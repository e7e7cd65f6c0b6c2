import NeuroODE

/// The full-adjoint (backsolve) system, integrated backward from T with any integrator:
///
///     y' = f(t, y, θ),   λ' = −(∂f/∂y)ᵀλ − (∂r/∂y)ᵀQ̄,   g' = −(∂f/∂θ)ᵀλ
///
/// State [y | λ | g]. Starting from y(T), λ(T) and g(T) = 0 it returns g(t₀) = ∫ λᵀ∂f/∂θ dt. It
/// re-creates y backward in time instead of storing it: constant memory, but wrong wherever the
/// forward dynamics are irreversible (the drift diagnostic measures exactly that).
struct BacksolveAdjointSystem<Base: VectorJacobianProviding, Loss: TaskLoss>: ODESystem {
    let base: Base
    let loss: Loss
    /// ∂Φ/∂Q, the weights of the running integrands.
    let integralsCotangent: [Double]

    var name: String { "\(base.name) (backsolve adjoint)" }
    var dimension: Int { 2 * base.dimension + base.parameterNames.count }
    var parameterNames: [String] { base.parameterNames }
    var defaultParameters: [Double] { base.defaultParameters }
    var defaultInitialState: [Double] { Array(repeating: 0, count: dimension) }

    func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = base.dimension
        let y = UnsafeBufferPointer(rebasing: state[0..<n])
        let lambda = UnsafeBufferPointer(rebasing: state[n..<(2 * n)])
        try base.evaluateRightHandSide(at: t, state: y, parameters: parameters, into: UnsafeMutableBufferPointer(rebasing: derivative[0..<n]))
        try AdjointRightHandSide.evaluate(
            base: base, loss: loss, integralsCotangent: integralsCotangent, t: t, y: y, lambda: lambda,
            parameters: parameters, into: UnsafeMutableBufferPointer(rebasing: derivative[n...]))
    }
}

/// The partial-adjoint system: the same λ and g equations, with y(t) read from the stored forward
/// trajectory by cubic Hermite interpolation (from the stored states and their derivatives, so
/// fourth-order accurate between stored points). State [λ | g].
struct InterpolatedAdjointSystem<Base: VectorJacobianProviding, Loss: TaskLoss>: ODESystem {
    let base: Base
    let loss: Loss
    let integralsCotangent: [Double]
    let trajectory: StoredTrajectory

    var name: String { "\(base.name) (interpolated adjoint)" }
    var dimension: Int { base.dimension + base.parameterNames.count }
    var parameterNames: [String] { base.parameterNames }
    var defaultParameters: [Double] { base.defaultParameters }
    var defaultInitialState: [Double] { Array(repeating: 0, count: dimension) }

    func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = base.dimension
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: n) { y in
            trajectory.interpolate(at: t, into: y)
            try AdjointRightHandSide.evaluate(
                base: base, loss: loss, integralsCotangent: integralsCotangent, t: t, y: UnsafeBufferPointer(y),
                lambda: UnsafeBufferPointer(rebasing: state[0..<n]), parameters: parameters, into: derivative)
        }
    }
}

/// The shared [λ' | g'] right-hand side of both adjoint systems.
enum AdjointRightHandSide {
    static func evaluate<Base: VectorJacobianProviding, Loss: TaskLoss>(
        base: Base, loss: Loss, integralsCotangent: [Double], t: Double, y: UnsafeBufferPointer<Double>,
        lambda: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = base.dimension
        derivative.initialize(repeating: 0)
        let lambdaDot = UnsafeMutableBufferPointer(rebasing: derivative[0..<n])
        try base.accumulatePullback(
            at: t, state: y, parameters: parameters, cotangent: lambda, stateCotangent: lambdaDot,
            parameterCotangent: UnsafeMutableBufferPointer(rebasing: derivative[n...]))
        if !integralsCotangent.isEmpty {
            integralsCotangent.withUnsafeBufferPointer {
                loss.accumulateIntegrandPullback(at: t, state: y, cotangent: $0, into: lambdaDot)
            }
        }
        for i in derivative.indices { derivative[i] = -derivative[i] }
    }
}
