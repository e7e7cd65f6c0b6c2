import NeuroODE

/// Running costs as extra state: y' = f(t, y, θ), q' = r(t, y), so that Q = q(T) is integrated by
/// the integrator itself, at its order and under its error control. Adaptive integrators need this:
/// a trapezoid sum over their (large, θ-dependent) steps is a poor quadrature, and its gradient on a
/// fixed grid differs from the loss's by the quadrature error (2 % on the 200 ms turn-off task with
/// dopri5 at rtol 1e-8). The leapfrog keeps the trapezoid sum, which is its scheme's own discrete loss.
public struct QuadratureAugmentedSystem<Base: ODESystem, Loss: TaskLoss>: ODESystem {
    /// The original system, whose state comes first.
    public let base: Base
    /// The loss whose running integrands r(t, y) become the extra state q.
    public let loss: Loss

    /// `base` augmented with one quadrature component per integrand of `loss` (starting at 0).
    public init(base: Base, loss: Loss) {
        self.base = base
        self.loss = loss
    }

    public var name: String { base.name }
    public var dimension: Int { base.dimension + loss.integrandCount }
    public var parameterNames: [String] { base.parameterNames }
    public var defaultParameters: [Double] { base.defaultParameters }
    public var defaultInitialState: [Double] { base.defaultInitialState + Array(repeating: 0, count: loss.integrandCount) }
    public var stateNames: [String] { base.stateNames + (0..<loss.integrandCount).map { "q\($0)" } }
    public var voltageIndices: [Int] { base.voltageIndices }

    public func validate(parameters: [Double]) throws(ODEError) {
        try base.validate(parameters: parameters)
    }

    public func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = base.dimension
        let y = UnsafeBufferPointer(rebasing: state[0..<n])
        try base.evaluateRightHandSide(at: t, state: y, parameters: parameters, into: UnsafeMutableBufferPointer(rebasing: derivative[0..<n]))
        loss.evaluateIntegrands(at: t, state: y, into: UnsafeMutableBufferPointer(rebasing: derivative[n...]))
    }
}

extension QuadratureAugmentedSystem: VectorJacobianProviding where Base: VectorJacobianProviding {
    public func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = base.dimension
        let y = UnsafeBufferPointer(rebasing: state[0..<n])
        let yBar = UnsafeMutableBufferPointer(rebasing: stateCotangent[0..<n])
        try base.accumulatePullback(
            at: t, state: y, parameters: parameters, cotangent: UnsafeBufferPointer(rebasing: cotangent[0..<n]),
            stateCotangent: yBar, parameterCotangent: parameterCotangent)
        loss.accumulateIntegrandPullback(at: t, state: y, cotangent: UnsafeBufferPointer(rebasing: cotangent[n...]), into: yBar)
    }
}

extension QuadratureAugmentedSystem: JacobianProviding where Base: JacobianProviding {
    /// [[∂f/∂y, 0], [∂r/∂y, 0]], column-major; the rows of ∂r/∂y are pulled back from unit vectors.
    public func evaluateJacobian(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = base.dimension, q = loss.integrandCount, m = n + q
        let y = UnsafeBufferPointer(rebasing: state[0..<n])
        jacobian.initialize(repeating: 0)
        try withUnsafeTemporaryAllocation(of: Double.self, capacity: n * n + q + n) { scratch in
            let block = UnsafeMutableBufferPointer(rebasing: scratch[0..<(n * n)])
            try base.evaluateJacobian(at: t, state: y, parameters: parameters, into: block)
            for j in 0..<n {
                for i in 0..<n { jacobian[i + j * m] = block[i + j * n] }
            }
            let unit = UnsafeMutableBufferPointer(rebasing: scratch[(n * n)..<(n * n + q)])
            let row = UnsafeMutableBufferPointer(rebasing: scratch[(n * n + q)...])
            for k in 0..<q {
                unit.initialize(repeating: 0)
                unit[k] = 1
                row.initialize(repeating: 0)
                loss.accumulateIntegrandPullback(at: t, state: y, cotangent: UnsafeBufferPointer(unit), into: row)
                for j in 0..<n { jacobian[(n + k) + j * m] = row[j] }
            }
        }
    }
}

/// The base's events, judged on and applied to its own state (the quadrature q is never reset), so
/// that forward-only methods (ES, finite differences) see the same resets with or without q.
extension QuadratureAugmentedSystem: EventSystem where Base: EventSystem {
    public var eventCount: Int { base.eventCount }

    public func evaluateEventFunctions(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) throws {
        try base.evaluateEventFunctions(
            at: t, state: UnsafeBufferPointer(rebasing: state[0..<base.dimension]), parameters: parameters, into: values)
    }

    public func applyEvent(
        _ index: Int, at t: Double, state: UnsafeMutableBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>
    ) {
        base.applyEvent(index, at: t, state: UnsafeMutableBufferPointer(rebasing: state[0..<base.dimension]), parameters: parameters)
    }
}

/// The reset and event-function derivatives of the base, on its own state; q passes a reset unchanged.
extension QuadratureAugmentedSystem: DifferentiableEventSystem where Base: DifferentiableEventSystem {
    public func accumulateResetPullback(
        _ index: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        let n = base.dimension
        defer { for i in n..<dimension { stateCotangent[i] += cotangent[i] } }
        return base.accumulateResetPullback(
            index, at: t, state: UnsafeBufferPointer(rebasing: state[0..<n]), parameters: parameters,
            cotangent: UnsafeBufferPointer(rebasing: cotangent[0..<n]),
            stateCotangent: UnsafeMutableBufferPointer(rebasing: stateCotangent[0..<n]), parameterCotangent: parameterCotangent)
    }

    public func eventFunctionGradient(
        _ index: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        stateGradient: UnsafeMutableBufferPointer<Double>, parameterGradient: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        let n = base.dimension
        for i in n..<dimension { stateGradient[i] = 0 }
        return base.eventFunctionGradient(
            index, at: t, state: UnsafeBufferPointer(rebasing: state[0..<n]), parameters: parameters,
            stateGradient: UnsafeMutableBufferPointer(rebasing: stateGradient[0..<n]), parameterGradient: parameterGradient)
    }
}

/// The loss of the augmented task: Q is read from the quadrature state at the end of the span,
/// presented as one more observation, so Φ and its gradient pass through unchanged.
public struct QuadratureObservedLoss<Base: TaskLoss>: TaskLoss {
    /// The loss of the original task.
    public let base: Base
    /// Dimension of the original state.
    public let dimension: Int
    /// T, where Q is read from the quadrature state.
    public let endTime: Double
    public let observationTimes: [Double]
    /// Whether the base already observes the end time (then that row also carries Q).
    private let sharesEndRow: Bool

    /// Wraps `base`, observing the augmented state at `endTime` as well (once, if `base` already does).
    public init(base: Base, dimension: Int, endTime: Double) {
        self.base = base
        self.dimension = dimension
        self.endTime = endTime
        sharesEndRow = base.observationTimes.last == endTime
        observationTimes = sharesEndRow ? base.observationTimes : base.observationTimes + [endTime]
    }

    public var parameterNames: [String] { base.parameterNames }

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        let n = dimension, q = base.integrandCount, width = n + q
        let rows = observationTimes.count, last = rows - 1
        let baseRows = base.observationTimes.count
        let quadrature = Array(observations[(last * width + n)..<((last + 1) * width)])
        var baseObservations: [Double] = []
        baseObservations.reserveCapacity(baseRows * n)
        for k in 0..<baseRows { baseObservations += observations[(k * width)..<(k * width + n)] }
        let g = base.valueAndGradient(integrals: quadrature, observations: baseObservations, parameters: parameters)
        var observationBar = [Double](repeating: 0, count: rows * width)
        for k in 0..<baseRows {
            for i in 0..<n { observationBar[k * width + i] = g.observations[k * n + i] }
        }
        for i in 0..<q { observationBar[last * width + n + i] += g.integrals[i] }
        return LossGradient(value: g.value, integrals: [], observations: observationBar, parameters: g.parameters)
    }
}

extension TrainingTask {
    /// Whether this task integrates its running costs as extra state: yes for every integrator but
    /// a stepper that sums them over its own steps (the leapfrog, whose trapezoid sum is the
    /// paper's discrete loss; ``DifferentiableStepper/sumsRunningCostsOverSteps``).
    public var integratesRunningCostAsState: Bool {
        loss.integrandCount > 0 && !((integrator as? any DifferentiableStepper)?.sumsRunningCostsOverSteps ?? false)
    }

    /// The same task with the running costs as quadrature state (see ``QuadratureAugmentedSystem``):
    /// same θ, same loss value up to quadrature error, no running integrands left.
    public func withQuadratureState() throws(ODEError)
        -> TrainingTask<QuadratureAugmentedSystem<System, Loss>, Method, QuadratureObservedLoss<Loss>>
    {
        try TrainingTask<QuadratureAugmentedSystem<System, Loss>, Method, QuadratureObservedLoss<Loss>>(
            name: name, system: QuadratureAugmentedSystem(base: system, loss: loss),
            initialState: initialState + Array(repeating: 0, count: loss.integrandCount),
            systemParameters: systemParameters, timeSpan: timeSpan,
            integrator: integrator.appendingComponents(loss.integrandCount),
            loss: QuadratureObservedLoss(base: loss, dimension: system.dimension, endTime: timeSpan.end),
            trainingIndices: trainedParameters)
    }
}
