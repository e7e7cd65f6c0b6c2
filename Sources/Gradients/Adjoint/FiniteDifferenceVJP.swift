import Foundation
import NeuroODE
import Synchronization

/// Vector–Jacobian products of a system that provides none, by central differences of its
/// right-hand side: the fallback that lets BPTT and the adjoints run on a model that is only an
/// `ODESystem`.
///
///     λᵀ ∂f/∂xⱼ ≈ λᵀ (f(xⱼ + hⱼ) − f(xⱼ − hⱼ)) / (2hⱼ),   x = (y, θ)
///
/// **Step.** hⱼ = ε^{1/3}·max(|xⱼ|, 1) (ε = 2⁻⁵², so ε^{1/3} ≈ 6·10⁻⁶), then rounded so that
/// xⱼ ± hⱼ are exact doubles. It balances the central difference's truncation error
/// (hⱼ²/6)·|∂³f/∂xⱼ³| against the rounding error ε·|f|/hⱼ: on a smooth right-hand side whose
/// derivatives are of the size of f over the scale of xⱼ, both are ≈ ε^{2/3} ≈ 4·10⁻¹¹ relative,
/// so gradients through many steps match exact pullbacks to ~10⁻⁹ relative. Scaling by |xⱼ| keeps
/// the step relative for large entries (a 100 µA/cm² current, a −60 mV potential); the floor of 1
/// keeps it sensible for entries near 0. Entries whose natural scale is far below 1 (a rate of
/// 10⁻⁴) lose relative accuracy: such models should supply exact pullbacks.
///
/// **Cost.** 2(n + p) right-hand-side evaluations per product — n state entries, p parameters —
/// against about one for a hand-written or autodiff pullback. When the base system conforms to
/// `JacobianProviding` the state part is the exact λᵀJ instead (one Jacobian and an n² product),
/// and only the p parameter columns are differenced.
///
/// **Caution.** The right-hand side is evaluated at y ± h and θ ± h, outside the trajectory: a
/// model that throws for parameters out of its domain (a capacitance at 0) fails here. A non-finite
/// difference is reported as `ODEError.rightHandSideFailed(model:time:reason:)`.
///
/// Scratch for the perturbed point and the two evaluations is allocated once per wrapper and
/// reused under a lock, so concurrent pullbacks through one wrapper are safe (and serialised).
public struct FiniteDifferenceVJPSystem<Base: ODESystem>: VectorJacobianProviding {
    /// The wrapped model; every requirement but the pullback forwards to it.
    public let base: Base
    private let workspace: Workspace

    /// Wraps `base`; scratch is sized from its dimension and parameter count.
    public init(base: Base) {
        self.base = base
        workspace = Workspace(base: base)
    }

    /// ε^{1/3}: the relative step that balances truncation and rounding error.
    public static var relativeStep: Double { cbrt(Double.ulpOfOne) }

    /// The step for an entry of value `x`: ε^{1/3}·max(|x|, 1), rounded so that x + h is exact.
    @inlinable
    public static func step(for x: Double) -> Double {
        let h = relativeStep * max(abs(x), 1)
        return (x + h) - x
    }

    public var name: String { base.name }
    public var dimension: Int { base.dimension }
    public var parameterNames: [String] { base.parameterNames }
    public var defaultParameters: [Double] { base.defaultParameters }
    public var defaultInitialState: [Double] { base.defaultInitialState }
    public var stateNames: [String] { base.stateNames }
    public var voltageIndices: [Int] { base.voltageIndices }

    public func validate(parameters: [Double]) throws(ODEError) {
        try base.validate(parameters: parameters)
    }

    public func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        try base.evaluateRightHandSide(at: t, state: state, parameters: parameters, into: derivative)
    }

    /// λᵀ∂f/∂y and λᵀ∂f/∂θ by central differences of the base's right-hand side (λᵀJ exactly when
    /// the base provides a Jacobian), serialised by a lock. Accurate to about 10⁻⁹ relative on smooth
    /// models; it evaluates f off the trajectory, so a model that throws outside its parameter domain
    /// can fail here, and a non-finite difference throws `ODEError.rightHandSideFailed`.
    public func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws {
        try workspace.lock.withLock { _ throws(ODEError) in
            let n = base.dimension, p = parameters.count
            guard state.count == n, p == workspace.parameterCount else {
                throw .dimensionMismatch(
                    what: "state and parameters pulled back through \(base.name)",
                    expected: n + workspace.parameterCount, actual: state.count + p)
            }
            let point = UnsafeMutableBufferPointer(rebasing: workspace.buffer[0..<(n + p)])
            let plus = UnsafeMutableBufferPointer(rebasing: workspace.buffer[(n + p)..<(2 * n + p)])
            let minus = UnsafeMutableBufferPointer(rebasing: workspace.buffer[(2 * n + p)..<(3 * n + p)])
            _ = point.initialize(fromContentsOf: state)
            _ = UnsafeMutableBufferPointer(rebasing: point[n...]).initialize(fromContentsOf: parameters)
            let y = UnsafeBufferPointer(rebasing: point[0..<n])
            let theta = UnsafeBufferPointer(rebasing: point[n...])

            if let jacobian = workspace.jacobian {
                // Exact state part: (λᵀJ)ⱼ = Σᵢ λᵢ J(i, j), column-major.
                let matrix = UnsafeMutableBufferPointer(rebasing: workspace.buffer[(3 * n + p)...])
                try evaluate(jacobian, t, y, theta, matrix)
                for j in 0..<n {
                    var sum = 0.0
                    for i in 0..<n { sum += cotangent[i] * matrix[i + j * n] }
                    try accumulate(sum, into: &stateCotangent[j], variable: j, t)
                }
            }
            // Perturb each differenced entry of x = (y, θ) in place, restoring it exactly after.
            for j in (workspace.jacobian == nil ? 0 : n)..<(n + p) {
                let original = point[j]
                let h = Self.step(for: original)
                point[j] = original + h
                try evaluate(base, t, y, theta, plus)
                point[j] = original - h
                try evaluate(base, t, y, theta, minus)
                point[j] = original
                var sum = 0.0
                for i in 0..<n { sum += cotangent[i] * (plus[i] - minus[i]) }
                if j < n {
                    try accumulate(sum / (2 * h), into: &stateCotangent[j], variable: j, t)
                } else {
                    try accumulate(sum / (2 * h), into: &parameterCotangent[j - n], variable: j, t)
                }
            }
        }
    }

    private func evaluate(
        _ system: Base, _ t: Double, _ y: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>,
        _ out: UnsafeMutableBufferPointer<Double>
    ) throws(ODEError) {
        try system.rightHandSide(t, y, p, out)
    }

    private func evaluate(
        _ jacobian: Workspace.Evaluation, _ t: Double, _ y: UnsafeBufferPointer<Double>,
        _ p: UnsafeBufferPointer<Double>, _ out: UnsafeMutableBufferPointer<Double>
    ) throws(ODEError) {
        do {
            try jacobian(t, y, p, out)
        } catch let error as ODEError {
            throw error
        } catch {
            throw .rightHandSideFailed(model: base.name, time: t, reason: "Jacobian: \(error)")
        }
    }

    /// Adds one product entry; `variable` indexes x = (y, θ) and names it only if the value is bad.
    private func accumulate(_ value: Double, into entry: inout Double, variable j: Int, _ t: Double) throws(ODEError) {
        guard value.isFinite else {
            let n = base.dimension
            let variable = j < n ? "y[\(j)]" : "parameter \(base.parameterNames[j - n])"
            throw .rightHandSideFailed(
                model: base.name, time: t,
                reason: "finite-difference pullback with respect to \(variable) is \(value)")
        }
        entry += value
    }

    /// Scratch and the optionally available Jacobian, shared by copies of the wrapper.
    private final class Workspace: Sendable {
        typealias Evaluation = @Sendable (
            Double, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>
        ) throws -> Void

        /// Guards `buffer`: the perturbed point x = (y, θ), f(x + h), f(x − h), then ∂f/∂y if used.
        let lock = Mutex(())
        nonisolated(unsafe) let buffer: UnsafeMutableBufferPointer<Double>
        /// ∂f/∂y of the base system, when it conforms to `JacobianProviding` (detected once here).
        let jacobian: Evaluation?
        /// The parameter count the scratch was sized for.
        let parameterCount: Int

        init(base: Base) {
            let n = base.dimension, p = base.parameterNames.count
            parameterCount = p
            if let jacobianSystem = base as? any JacobianProviding {
                jacobian = Self.jacobianEvaluation(jacobianSystem)
            } else {
                jacobian = nil
            }
            buffer = .allocate(capacity: 3 * n + p + (jacobian == nil ? 0 : n * n))
            buffer.initialize(repeating: 0)
        }

        deinit { buffer.deallocate() }

        private static func jacobianEvaluation<S: JacobianProviding>(_ system: S) -> Evaluation {
            { t, y, p, jac in try system.evaluateJacobian(at: t, state: y, parameters: p, into: jac) }
        }
    }
}

extension FiniteDifferenceVJPSystem: JacobianProviding where Base: JacobianProviding {
    /// The base system's own Jacobian, so that CVODE keeps using it through the wrapper.
    public func evaluateJacobian(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) throws {
        try base.evaluateJacobian(at: t, state: state, parameters: parameters, into: jacobian)
    }
}

extension TrainingTask {
    /// The same task with its system wrapped in ``FiniteDifferenceVJPSystem``, after printing (once
    /// per model type and process) a warning that `method` is falling back to finite differences
    /// and what to add to the model to avoid it. Gradient methods call this when the system
    /// provides no vector–Jacobian products.
    public func withFiniteDifferenceVJPs(for method: String) throws(ODEError)
        -> TrainingTask<FiniteDifferenceVJPSystem<System>, Method, Loss>
    {
        FiniteDifferenceVJPWarning.emitOnce(for: System.self, modelName: system.name, method: method)
        return try TrainingTask<FiniteDifferenceVJPSystem<System>, Method, Loss>(
            name: name, system: FiniteDifferenceVJPSystem(base: system), initialState: initialState,
            systemParameters: systemParameters, timeSpan: timeSpan, integrator: integrator, loss: loss,
            trainingIndices: trainedParameters)
    }
}

/// The one-time warning of the finite-difference fallback: at most one line on standard error per
/// model type per process, however many gradients are taken.
enum FiniteDifferenceVJPWarning {
    private static let warned = Mutex(Set<ObjectIdentifier>())

    /// The warning's text for a model named `modelName` of Swift type `type`.
    static func message(for type: Any.Type, modelName: String, method: String) -> String {
        let jacobian = type is any JacobianProviding.Type
        let what = jacobian
            ? "its parameter derivatives (∂f/∂θ; ∂f/∂y comes from its Jacobian)"
            : "its vector–Jacobian products"
        return """
            warning: \(modelName) (\(String(reflecting: type))) provides no vector–Jacobian products, so \(method) \
            takes \(what) by central finite differences of the right-hand side: about 2 evaluations per \
            differenced variable per product, accurate to ~1e-9 relative. For exact and faster gradients, \
            conform the model to DifferentiableODESystem (write derivative(at:state:parameters:) as a \
            @differentiable(reverse) function) or to VectorJacobianProviding (a hand-written \
            accumulatePullback). This warning is printed once per model type.

            """
    }

    /// Prints the warning unless it was already printed for `type`; returns whether it printed.
    @discardableResult
    static func emitOnce(for type: Any.Type, modelName: String, method: String) -> Bool {
        let isFirst = warned.withLock { $0.insert(ObjectIdentifier(type)).inserted }
        if isFirst {
            FileHandle.standardError.write(Data(message(for: type, modelName: modelName, method: method).utf8))
        }
        return isFirst
    }
}
