import CSundials

/// The Swift side of the CVODES backward problem's C callbacks, reached through `user_dataB`:
///
///     λ' = fB(t, y, λ) = −(∂f/∂y)ᵀλ − (∂r/∂y)ᵀQ̄       (the adjoint ODE)
///     q' = fQB(t, y, λ) = −(∂f/∂θ)ᵀλ                   (the parameter-gradient quadrature)
///     ∂fB/∂λ = −(∂f/∂y)ᵀ                                (the backward Newton matrix)
///
/// CVODES integrates both from T down to t₀, so q(t₀) = ∫_{t₀}^T λᵀ ∂f/∂θ dt, the parameter
/// gradient, and λ(t₀) is the gradient with respect to y₀. The forward state y(t) comes from
/// CVODES' Hermite interpolation between its stored points; the callbacks never see the checkpoints.
///
/// As with ``CVODECallbacks``, everything model-specific is captured in closures built once in a
/// generic context; errors are stored, not thrown across C, and a non-finite result is reported
/// to CVODES as recoverable so that it shrinks the step before giving up.
final class CVODESAdjointCallbacks {
    /// The system's pullback: (t, y, θ, λ, adds λᵀ∂f/∂y, adds λᵀ∂f/∂θ).
    typealias Pullback = (
        Double, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>,
        UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>
    ) throws -> Void

    let dimension: Int
    let parameterCount: Int
    /// The forward callbacks own the parameter vector the backward problem reads.
    private let forward: CVODECallbacks
    private let pullback: Pullback
    private let jacobian: CVODECallbacks.Evaluation?
    private let integrand: DifferentiableRunningIntegrand?
    /// Q̄ = ∂Φ/∂Q of the current backward pass, weighting the integrand pullback.
    let integralCotangents: UnsafeMutableBufferPointer<Double>
    /// Scratch for the half of the pullback each callback discards.
    private let stateScratch: UnsafeMutableBufferPointer<Double>
    private let parameterScratch: UnsafeMutableBufferPointer<Double>

    /// The first error a callback raised (a model that threw); it takes precedence over CVODES' flag.
    private(set) var failure: ODEError?
    /// The latest time at which a backward callback came out non-finite.
    var nonFiniteTime: Double?

    init<System: VectorJacobianProviding>(system: System, forward: CVODECallbacks, integrand: DifferentiableRunningIntegrand?) {
        dimension = system.dimension
        parameterCount = forward.parameters.count
        self.forward = forward
        self.integrand = integrand
        pullback = { t, y, p, lambda, stateCotangent, parameterCotangent in
            try system.accumulatePullback(
                at: t, state: y, parameters: p, cotangent: lambda,
                stateCotangent: stateCotangent, parameterCotangent: parameterCotangent)
        }
        if let jacobianSystem = system as? any JacobianProviding {
            jacobian = Self.jacobianEvaluation(jacobianSystem)
        } else {
            jacobian = nil
        }
        integralCotangents = .allocate(capacity: integrand?.count ?? 0)
        integralCotangents.initialize(repeating: 0)
        stateScratch = .allocate(capacity: dimension)
        stateScratch.initialize(repeating: 0)
        parameterScratch = .allocate(capacity: parameterCount)
        parameterScratch.initialize(repeating: 0)
    }

    deinit {
        integralCotangents.deallocate()
        stateScratch.deallocate()
        parameterScratch.deallocate()
    }

    var hasJacobian: Bool { jacobian != nil }

    private static func jacobianEvaluation<S: JacobianProviding>(_ system: S) -> CVODECallbacks.Evaluation {
        { t, y, p, jac in try system.evaluateJacobian(at: t, state: y, parameters: p, into: jac) }
    }

    private func record(_ error: any Error, at t: Double) {
        guard failure == nil else { return }
        failure = (error as? ODEError) ?? .rightHandSideFailed(model: forward.modelName, time: t, reason: "\(error)")
    }

    private func checkFinite(_ values: UnsafeMutableBufferPointer<Double>, at t: Double) -> Int32 {
        for value in values where !value.isFinite {
            nonFiniteTime = t
            return 1
        }
        return 0
    }

    // MARK: Entry points for the C trampolines (0 ok, > 0 recoverable, < 0 fatal)

    fileprivate func evaluateAdjoint(_ t: Double, _ y: N_Vector, _ yB: N_Vector, _ yBdot: N_Vector) -> Int32 {
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: dimension)
        let lambda = UnsafeBufferPointer(start: nde_nvector_data(yB), count: dimension)
        let lambdaDot = UnsafeMutableBufferPointer(start: nde_nvector_data(yBdot), count: dimension)
        lambdaDot.update(repeating: 0)
        parameterScratch.update(repeating: 0)
        do {
            try pullback(t, state, UnsafeBufferPointer(forward.parameters), lambda, lambdaDot, parameterScratch)
        } catch {
            record(error, at: t)
            return -1
        }
        integrand?.pullback(t, state, UnsafeBufferPointer(integralCotangents), lambdaDot)
        for i in lambdaDot.indices { lambdaDot[i] = -lambdaDot[i] }
        return checkFinite(lambdaDot, at: t)
    }

    fileprivate func evaluateQuadrature(_ t: Double, _ y: N_Vector, _ yB: N_Vector, _ qBdot: N_Vector) -> Int32 {
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: dimension)
        let lambda = UnsafeBufferPointer(start: nde_nvector_data(yB), count: dimension)
        let gradientDot = UnsafeMutableBufferPointer(start: nde_nvector_data(qBdot), count: parameterCount)
        gradientDot.update(repeating: 0)
        stateScratch.update(repeating: 0)
        do {
            try pullback(t, state, UnsafeBufferPointer(forward.parameters), lambda, stateScratch, gradientDot)
        } catch {
            record(error, at: t)
            return -1
        }
        for i in gradientDot.indices { gradientDot[i] = -gradientDot[i] }
        return checkFinite(gradientDot, at: t)
    }

    /// Writes −(∂f/∂y)ᵀ: the system's Jacobian, transposed and negated in place (column-major).
    fileprivate func evaluateJacobian(_ t: Double, _ y: N_Vector, _ matrix: SUNMatrix) -> Int32 {
        guard let jacobian else { return -1 }
        let n = dimension
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: n)
        let entries = UnsafeMutableBufferPointer(start: nde_dense_data(matrix), count: n * n)
        do {
            try jacobian(t, state, UnsafeBufferPointer(forward.parameters), entries)
        } catch {
            record(error, at: t)
            return -1
        }
        for j in 0..<n {
            entries[j + j * n] = -entries[j + j * n]
            for i in (j + 1)..<n {
                let upper = entries[i + j * n], lower = entries[j + i * n]
                entries[i + j * n] = -lower
                entries[j + i * n] = -upper
            }
        }
        return checkFinite(entries, at: t)
    }
}

// MARK: C trampolines

@inline(__always)
private func adjointCallbacks(_ userData: UnsafeMutableRawPointer?) -> CVODESAdjointCallbacks {
    // CVODES passes back the pointer the pass registered; the pass keeps the object alive.
    Unmanaged<CVODESAdjointCallbacks>.fromOpaque(userData!).takeUnretainedValue()
}

let cvodesAdjointRightHandSide: CVRhsFnB = { t, y, yB, yBdot, userData in
    adjointCallbacks(userData).evaluateAdjoint(t, y!, yB!, yBdot!)
}

let cvodesAdjointQuadrature: CVQuadRhsFnB = { t, y, yB, qBdot, userData in
    adjointCallbacks(userData).evaluateQuadrature(t, y!, yB!, qBdot!)
}

let cvodesAdjointJacobian: CVLsJacFnB = { t, y, _, _, matrix, userData, _, _, _ in
    adjointCallbacks(userData).evaluateJacobian(t, y!, matrix!)
}
