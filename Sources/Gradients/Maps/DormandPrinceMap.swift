import NeuroODE

/// Dormand–Prince 5(4) replayed on a fixed grid of steps as a ``DiscreteForwardMap``: BPTT through
/// the accepted steps of an adaptive solve (the step sizes are data, not differentiated, as in
/// torchdiffeq and diffrax) or through a fixed-step solve. z = y; the reported state is y itself.
///
/// The stages come from `DormandPrinceTableau.advance`, the same function the integrator uses.
/// A ``PullbackCaching`` system keeps each stage's intermediate values when the reverse pass
/// recomputes the step, so each stage's pullback skips its own forward pass (bit-identical).
public final class DormandPrinceMap<System: VectorJacobianProviding>: DiscreteForwardMap {
    /// The system whose right-hand side the stages evaluate.
    public let system: System
    public let dimension: Int
    private let times: [Double]
    private let initialState: [Double]
    private let parameters: UnsafeMutableBufferPointer<Double>
    private let scratch: UnsafeMutableBufferPointer<Double>
    /// k₁…k₆ and the stage inputs Y₁…Y₆ (Y₁ = y), then their cotangents.
    private let slopes: [UnsafeMutableBufferPointer<Double>]
    private let stageStates: [UnsafeMutableBufferPointer<Double>]
    private let slopeBars: [UnsafeMutableBufferPointer<Double>]
    private let stageBar, stageResult: UnsafeMutableBufferPointer<Double>
    /// The system again when it can keep each stage's intermediate values for its pullback
    /// (``PullbackCaching``), with one cache per stage; else nil and empty.
    private let caching: (any PullbackCaching)?
    private let stageCaches: [UnsafeMutableBufferPointer<Double>]

    /// The map on the grid `times` (t₀ < t₁ < … < t_N, or decreasing for a backward span).
    public init(problem: ODEProblem<System>, grid times: [Double]) throws(ODEError) {
        guard times.count >= 2 else { throw .invalidOutputTimes(reason: "a step grid needs at least two times") }
        system = problem.system
        dimension = system.dimension
        self.times = times
        initialState = problem.initialState
        parameters = .allocate(capacity: problem.parameters.count)
        _ = parameters.initialize(from: problem.parameters)
        let n = dimension
        let buffer = UnsafeMutableBufferPointer<Double>.allocate(capacity: 20 * n)
        buffer.initialize(repeating: 0)
        scratch = buffer
        func slice(_ k: Int) -> UnsafeMutableBufferPointer<Double> {
            UnsafeMutableBufferPointer(rebasing: buffer[(k * n)..<((k + 1) * n)])
        }
        slopes = (0..<6).map(slice)
        stageStates = (6..<12).map(slice)
        slopeBars = (12..<18).map(slice)
        stageBar = slice(18)
        stageResult = slice(19)
        let caching = problem.system as? any PullbackCaching
        self.caching = caching
        let cacheCount = caching?.pullbackCacheCount ?? 0
        stageCaches = (0..<(caching == nil ? 0 : 6)).map { _ in
            let cache = UnsafeMutableBufferPointer<Double>.allocate(capacity: cacheCount)
            cache.initialize(repeating: 0)
            return cache
        }
    }

    deinit {
        parameters.deallocate()
        scratch.deallocate()
        for cache in stageCaches { cache.deallocate() }
    }

    public var internalSize: Int { dimension }
    public var stepCount: Int { times.count - 1 }
    public var parameterCount: Int { parameters.count }
    public var rightHandSidesPerStep: Int { 6 }
    public func time(_ n: Int) -> Double { times[n] }

    private var p: UnsafeBufferPointer<Double> { UnsafeBufferPointer(parameters) }

    /// Runs step n from z, leaving kᵢ in `slopes`, Yᵢ in `stageStates` and y_{n+1} in `result`;
    /// with `keeping`, also each stage's pullback cache (when the system keeps one).
    private func stages(
        _ n: Int, _ z: UnsafeBufferPointer<Double>, into result: UnsafeMutableBufferPointer<Double>, keeping: Bool = false
    ) throws(ODEError) {
        let t = times[n], tNew = times[n + 1], h = tNew - t
        let states = stageStates, system = self.system, p = self.p
        let caches = keeping ? stageCaches : []
        func evaluate(_ stage: Int, _ time: Double, _ state: UnsafeBufferPointer<Double>, _ slope: UnsafeMutableBufferPointer<Double>) throws(ODEError) {
            _ = states[stage].initialize(fromContentsOf: state)
            guard let caching, !caches.isEmpty else { return try system.rightHandSide(time, state, p, slope) }
            do {
                try caching.evaluateRightHandSide(at: time, state: state, parameters: p, into: slope, keeping: caches[stage])
            } catch {
                throw (error as? ODEError) ?? .rightHandSideFailed(model: system.name, time: time, reason: "\(error)")
            }
        }
        try evaluate(0, t, z, slopes[0])
        var stage = 1
        let finite = try DormandPrinceTableau.advance(
            from: t, step: h, to: tNew, state: z, stages: (slopes[0], slopes[1], slopes[2], slopes[3], slopes[4], slopes[5]),
            stageState: stageResult, into: result,
            rightHandSide: { (time, state, slope) throws(ODEError) in
                stage += 1
                try evaluate(stage - 1, time, UnsafeBufferPointer(state), slope)
            })
        guard finite else { throw .nonFiniteState(time: tNew, step: n + 1, model: system.name) }
    }

    public func initialize(into z: UnsafeMutableBufferPointer<Double>) throws(ODEError) {
        _ = initialState.withUnsafeBufferPointer { z.initialize(fromContentsOf: $0) }
    }

    public func step(
        _ n: Int, from z: UnsafeBufferPointer<Double>, to next: UnsafeMutableBufferPointer<Double>,
        reporting y: UnsafeMutableBufferPointer<Double>
    ) throws(ODEError) {
        _ = y.initialize(fromContentsOf: z)
        try stages(n, z, into: next)
    }

    public func terminalReport(from z: UnsafeBufferPointer<Double>, reporting y: UnsafeMutableBufferPointer<Double>) {
        _ = y.initialize(fromContentsOf: z)
    }

    public func pullbackStep(
        _ n: Int, from z: UnsafeBufferPointer<Double>, cotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>,
        seed: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) throws(ODEError) {
        try stages(n, z, into: stageResult, keeping: true)
        let t = times[n], tNew = times[n + 1], h = tNew - t
        let a = ReverseTableau.a, b = ReverseTableau.b, c = ReverseTableau.c
        // y_{n+1} = y + h Σ bᵢkᵢ; kᵢ = f(tᵢ, Yᵢ); Yᵢ = y + h Σ_{j<i} aᵢⱼkⱼ.
        for i in 0..<6 {
            for j in 0..<dimension { slopeBars[i][j] = h * b[i] * cotangent[j] }
        }
        for i in stride(from: 5, through: 0, by: -1) {
            stageBar.initialize(repeating: 0)
            do {
                let time = i == 5 ? tNew : t + c[i] * h, state = UnsafeBufferPointer(stageStates[i])
                if let caching {
                    try caching.accumulatePullback(
                        at: time, state: state, parameters: p, cotangent: UnsafeBufferPointer(slopeBars[i]),
                        stateCotangent: stageBar, parameterCotangent: parameterCotangent,
                        cached: UnsafeBufferPointer(stageCaches[i]))
                } else {
                    try system.accumulatePullback(
                        at: time, state: state, parameters: p, cotangent: UnsafeBufferPointer(slopeBars[i]),
                        stateCotangent: stageBar, parameterCotangent: parameterCotangent)
                }
            } catch {
                throw (error as? ODEError) ?? .rightHandSideFailed(model: system.name, time: t + c[i] * h, reason: "\(error)")
            }
            for j in 0..<dimension { cotangent[j] += stageBar[j] }
            for (m, coefficient) in a[i].enumerated() {
                for j in 0..<dimension { slopeBars[m][j] += h * coefficient * stageBar[j] }
            }
        }
        stageBar.initialize(repeating: 0)
        seed(z, stageBar)
        for j in 0..<dimension { cotangent[j] += stageBar[j] }
    }

    public func pullbackTerminalReport(
        from z: UnsafeBufferPointer<Double>, cotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>,
        seed: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) -> Void
    ) {
        cotangent.initialize(repeating: 0)
        seed(z, cotangent)
    }

    /// z₀ = y₀: θ gets nothing, ȳ₀ = z̄₀.
    public func pullbackInitialize(
        cotangent: UnsafeBufferPointer<Double>, initialStateCotangent: UnsafeMutableBufferPointer<Double>?,
        parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        _ = initialStateCotangent?.update(fromContentsOf: cotangent)
    }
}

/// dopri5's steps for BPTT: ``DormandPrinceMap`` on the accepted steps of the forward solve.
extension DormandPrince: DifferentiableStepper {
    /// The accepted steps of the forward solve at θ, with the observation times added (so that
    /// observations are states of the map rather than dense-output interpolants).
    public func stepGrid<System: ODESystem>(for problem: ODEProblem<System>, observationTimes: [Double]) throws -> [Double] {
        let accepted = try solve(problem, output: .everyStep(1)).times
        return Array(Set(accepted + observationTimes)).sorted(by: problem.endTime > problem.startTime ? (<) : (>))
    }

    public func forwardMap<System: ODESystem>(for problem: ODEProblem<System>, grid: [Double]) throws -> any DiscreteForwardMap {
        guard let system = problem.system as? any VectorJacobianProviding else {
            throw TrainingError.unsupported(
                "bptt through dopri5 needs vector–Jacobian products of \(problem.system.name) (VectorJacobianProviding)")
        }
        return try map(system, problem, grid)
    }

    private func map<C: VectorJacobianProviding, S>(_ system: C, _ problem: ODEProblem<S>, _ grid: [Double]) throws -> any DiscreteForwardMap {
        try DormandPrinceMap(
            problem: ODEProblem(system: system, initialState: problem.initialState, parameters: problem.parameters,
                                timeSpan: (problem.startTime, problem.endTime)),
            grid: grid)
    }

    public var pullsBackThroughRightHandSide: Bool { true }
    public var hasFixedGrid: Bool { fixedStepSize != nil }
    public var locatesEvents: Bool { true }
    public var sumsRunningCostsOverSteps: Bool { false }
}

/// The tableau as arrays, for the reverse sweep's loops (built once).
private enum ReverseTableau {
    typealias T = DormandPrinceTableau
    static let a: [[Double]] = [[], [T.a21], [T.a31, T.a32], [T.a41, T.a42, T.a43], [T.a51, T.a52, T.a53, T.a54],
                                [T.a61, T.a62, T.a63, T.a64, T.a65]]
    static let b = [T.b1, 0, T.b3, T.b4, T.b5, T.b6]
    static let c = [0, T.c2, T.c3, T.c4, T.c5, 1]
}
