/// A system that evaluates many stacked copies of itself at once, faster than one by one: a neural
/// network's layers become matrix–matrix products over the copies instead of matrix–vector ones.
///
/// The stacked layout is ``BatchedSystem``'s, [y⁽¹⁾ | y⁽²⁾ | … | y⁽ᴮ⁾], all copies sharing one
/// parameter vector; results equal the copy-by-copy evaluation up to the summation order of the
/// products.
public protocol BatchEvaluating: VectorJacobianProviding {
    /// The right-hand sides of `copies` stacked states.
    func evaluateRightHandSide(
        copies: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>)
    /// Adds the pullbacks of `copies` stacked cotangents: each copy's state cotangent into its block,
    /// the sum over copies into the shared parameter cotangent.
    func accumulatePullback(
        copies: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>)

    /// Doubles of cache an evaluation of `copies` stacked states fills (``PullbackCaching``).
    func pullbackCacheCount(copies: Int) -> Int
    /// The right-hand sides of `copies` stacked states, keeping what their pullback needs in `cache`.
    func evaluateRightHandSide(
        copies: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>, keeping cache: UnsafeMutableBufferPointer<Double>)
    /// ``accumulatePullback(copies:at:state:parameters:cotangent:stateCotangent:parameterCotangent:)``
    /// at the states whose evaluation filled `cache`.
    func accumulatePullback(
        copies: Int, at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>, stateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>, cached cache: UnsafeBufferPointer<Double>)
}

/// B independent copies of one system sharing its parameters, stacked into one state
/// [y⁽¹⁾ | y⁽²⁾ | … | y⁽ᴮ⁾]: a minibatch of trajectories solved (and differentiated) as one ODE,
/// as the spiral task's windows are. With an adaptive integrator all copies share the steps (BPTT
/// may cut a large batch into parts with steps of their own: ``minimumWorkPerPart``). A base
/// that is ``BatchEvaluating`` evaluates all copies in one call.
public struct BatchedSystem<Base: ODESystem>: ODESystem {
    /// The system each copy integrates; all copies share its parameter vector.
    public let base: Base
    /// B, the number of stacked copies (at least 1).
    public let batchSize: Int
    /// The grain of parallel work: the least copies × parameters (a proxy for one right-hand side's
    /// multiply–adds) worth running on a thread of its own when BPTT cuts the batch into parts
    /// (default 32 768; the Gradients library's `TrialBatchedSystem` conformance uses it).
    public var minimumWorkPerPart: Int

    /// Stacks `batchSize` copies of `base`; traps unless `batchSize` ≥ 1.
    public init(_ base: Base, batchSize: Int, minimumWorkPerPart: Int = 32_768) {
        precondition(batchSize >= 1, "a batch holds at least one copy")
        self.base = base
        self.batchSize = batchSize
        self.minimumWorkPerPart = max(1, minimumWorkPerPart)
    }

    public var name: String { "\(base.name) ×\(batchSize)" }
    public var dimension: Int { base.dimension * batchSize }
    public var parameterNames: [String] { base.parameterNames }
    public var defaultParameters: [Double] { base.defaultParameters }
    public var defaultInitialState: [Double] { (0..<batchSize).flatMap { _ in base.defaultInitialState } }
    public var stateNames: [String] {
        (0..<batchSize).flatMap { b in base.stateNames.map { "\($0)[\(b)]" } }
    }

    public func validate(parameters: [Double]) throws(ODEError) {
        try base.validate(parameters: parameters)
    }

    /// The block of copy `b` in a stacked buffer.
    @inline(__always)
    func block(_ b: Int) -> Range<Int> { (b * base.dimension)..<((b + 1) * base.dimension) }

    public func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>
    ) throws {
        if let batched = base as? any BatchEvaluating {
            return batched.evaluateRightHandSide(copies: batchSize, at: t, state: state, parameters: parameters, into: derivative)
        }
        for b in 0..<batchSize {
            try base.evaluateRightHandSide(
                at: t, state: UnsafeBufferPointer(rebasing: state[block(b)]), parameters: parameters,
                into: UnsafeMutableBufferPointer(rebasing: derivative[block(b)]))
        }
    }
}

extension BatchedSystem: VectorJacobianProviding where Base: VectorJacobianProviding {
    public func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) throws {
        if let batched = base as? any BatchEvaluating {
            return batched.accumulatePullback(
                copies: batchSize, at: t, state: state, parameters: parameters, cotangent: cotangent,
                stateCotangent: stateCotangent, parameterCotangent: parameterCotangent)
        }
        for b in 0..<batchSize {
            try base.accumulatePullback(
                at: t, state: UnsafeBufferPointer(rebasing: state[block(b)]), parameters: parameters,
                cotangent: UnsafeBufferPointer(rebasing: cotangent[block(b)]),
                stateCotangent: UnsafeMutableBufferPointer(rebasing: stateCotangent[block(b)]),
                parameterCotangent: parameterCotangent)
        }
    }
}

/// A batch of a ``BatchEvaluating`` base keeps the base's layer values for the pullback.
extension BatchedSystem: PullbackCaching where Base: BatchEvaluating {
    public var pullbackCacheCount: Int { base.pullbackCacheCount(copies: batchSize) }

    public func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>, keeping cache: UnsafeMutableBufferPointer<Double>
    ) {
        base.evaluateRightHandSide(copies: batchSize, at: t, state: state, parameters: parameters, into: derivative, keeping: cache)
    }

    public func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>, stateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>, cached cache: UnsafeBufferPointer<Double>
    ) {
        base.accumulatePullback(
            copies: batchSize, at: t, state: state, parameters: parameters, cotangent: cotangent,
            stateCotangent: stateCotangent, parameterCotangent: parameterCotangent, cached: cache)
    }
}
