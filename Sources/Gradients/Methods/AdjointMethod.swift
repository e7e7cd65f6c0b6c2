import Dispatch
import NeuroODE

/// Continuous adjoint gradients (SCIENCE.md "Gradient methods"): integrate the adjoint
/// λ' = −(∂f/∂y)ᵀλ − (∂r/∂y)ᵀQ̄ and the parameter quadrature g' = −(∂f/∂θ)ᵀλ backward from T,
/// with jumps λ += ∂Φ/∂y(t_k) at observation times.
///
/// - `full` (backsolve, fNDE): keeps only y(T) and integrates y backward alongside λ. Constant
///   memory; wrong when the forward dynamics are irreversible, which the drift diagnostic measures
///   (‖y_backward − y_forward‖ at `diagnosticPoints` times; those forward states are kept only for
///   the diagnostic and not counted as stored). The drift is checked segment by segment: past
///   ``driftTolerance`` (relative to 1 + ‖y_forward‖), or when the backsolve becomes non-finite,
///   the estimate fails with ``TrainingError/backsolveDiverged(model:time:drift:tolerance:)``
///   unless ``allowsDrift`` is set (then the report carries the drift for inspection).
/// - Events (``EventSystem`` resets): the partial adjoint of a dopri5 or CVODE forward pass on a
///   ``DifferentiableEventSystem`` runs through ``EventGradient`` (the stored trajectory cut at the
///   events, the adjoint jumping by the transposed saltation matrix at each; with CVODE each piece
///   runs through CVODES' adjoint module, its backward problem restarted after each jump). Every other case (the full
///   adjoint, a leapfrog forward pass, a model without event derivatives) is refused with
///   ``TrainingError/eventsUnsupported(model:method:)`` before anything is computed.
/// - With `recordsRunningGradient`, both variants also report the parameter quadrature
///   g(t) = ∫ₜᵀ λᵀ∂f/∂θ ds at the same diagnostic times (``GradientReport/runningGradient``): how
///   the gradient builds up along the horizon, and where a drifting backsolve corrupts it. Not
///   recorded on the CVODES path.
/// - `partial` (pNDE): reads y(t) from the forward trajectory stored at every step, interpolated by
///   cubic Hermite polynomials. Observations are read from the same interpolant. When the task's
///   integrator is `CVODE` (detected once per estimate), the partial adjoint runs through
///   CVODES' adjoint module instead (`CVODESAdjoint`): checkpoints every
///   ``cvodesOptions``-`checkpointInterval` steps, Hermite interpolation of the recomputed
///   trajectory, a BDF (or Adams) backward problem with the gradient as a quadrature, and the
///   loss integrals as forward quadratures — all at the task's CVODE tolerances; the
///   `backwardIntegrator` is not used on that path.
///
/// A system without vector–Jacobian products runs through ``FiniteDifferenceVJPSystem`` (central
/// differences of its right-hand side, with a one-time warning).
///
/// The continuous adjoint is the gradient of the continuous loss, not of the discrete map: it
/// approaches BPTT's gradient at the forward integrator's order as the step shrinks.
public struct AdjointMethod: GradientMethod {
    /// Where the backward pass gets the forward state: integrated backward from y(T) (`full`), or
    /// read from the stored forward trajectory (`partial`).
    public enum Variant: String, Sendable, CaseIterable {
        case full, partial
    }

    /// Backsolve (`full`) or stored trajectory (`partial`).
    public var variant: Variant
    /// Integrator of the backward pass (must support backward spans: dopri5 or CVODE).
    public var backwardIntegrator: any Integrator
    /// Full adjoint only: how many evenly spaced times the drift ‖y_backward − y_forward‖ is
    /// reported at (``GradientReport/drift``).
    public var diagnosticPoints: Int
    /// Settings of the CVODES path (partial adjoint of a task integrated with `CVODE`).
    public var cvodesOptions: CVODESAdjoint.Options
    /// Whether to record the running parameter gradient at the diagnostic times.
    public var recordsRunningGradient: Bool
    /// The default ``driftTolerance``: far above the reconstruction error of a reversible system at
    /// the usual backward tolerances (≈ 1e-8), and far below a lost trajectory (≈ 1). On Van der Pol
    /// the gradient's relative error was about 2 × the relative drift (GradientRefusalTests).
    public static let defaultDriftTolerance = 1e-3
    /// Full adjoint only: the largest drift ‖y_backward − y_forward‖ / (1 + ‖y_forward‖) accepted at
    /// a diagnostic time (``defaultDriftTolerance`` unless set).
    public var driftTolerance: Double
    /// Full adjoint only: return the estimate even when the drift exceeds ``driftTolerance`` (its
    /// gradient is then unreliable; the report's ``GradientReport/drift`` shows where). Off by default.
    public var allowsDrift: Bool

    /// An adjoint estimator.
    ///
    /// - Parameters:
    ///   - variant: `.full` (backsolve, constant memory) or `.partial` (stored forward trajectory).
    ///     The full adjoint integrates y backward from y(T): on irreversible (dissipative, spiking)
    ///     systems that backward solve diverges and the gradient is wrong, so check the reported drift.
    ///   - backwardIntegrator: the backward-pass integrator; it must support backward spans (dopri5
    ///     or CVODE). Unused when the task's forward integrator is CVODE and the variant is partial.
    ///   - diagnosticPoints: how many evenly spaced times the drift (and running gradient) are reported at.
    ///   - cvodesOptions: settings of the CVODES adjoint path.
    ///   - recordsRunningGradient: whether to report the running parameter gradient.
    ///   - driftTolerance: the full adjoint's largest accepted relative drift (see ``driftTolerance``).
    ///   - allowsDrift: return the full adjoint's estimate past `driftTolerance` instead of failing.
    public init(
        variant: Variant, backwardIntegrator: any Integrator, diagnosticPoints: Int = 100,
        cvodesOptions: CVODESAdjoint.Options = CVODESAdjoint.Options(), recordsRunningGradient: Bool = false,
        driftTolerance: Double = defaultDriftTolerance, allowsDrift: Bool = false
    ) {
        self.variant = variant
        self.backwardIntegrator = backwardIntegrator
        self.diagnosticPoints = diagnosticPoints
        self.cvodesOptions = cvodesOptions
        self.recordsRunningGradient = recordsRunningGradient
        self.driftTolerance = driftTolerance
        self.allowsDrift = allowsDrift
    }

    public var name: String { "adjoint-\(variant.rawValue)" }

    public func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        try task.requireDoublePrecision(by: name)
        guard driftTolerance.isFinite, driftTolerance > 0 else {
            throw TrainingError.invalidOption(name: "driftTolerance", value: "\(driftTolerance)", reason: "must be finite and positive")
        }
        // Before any wrapper (which would hide the events) and before any computation.
        if task.system is any EventSystem {
            guard variant == .partial, task.integrator is DormandPrince || task.integrator is CVODE,
                  let system = task.system as? any (DifferentiableEventSystem & VectorJacobianProviding) else {
                throw TrainingError.eventsUnsupported(model: task.system.name, method: name)
            }
            if task.integratesRunningCostAsState {
                return try estimate(task.withQuadratureState(), at: theta, iteration: iteration)
            }
            return try EventGradient.estimate(system, task: task, at: theta, between: betweenEvents(of: task.integrator))
        }
        guard let system = task.system as? any VectorJacobianProviding else {
            return try estimate(task.withFiniteDifferenceVJPs(for: name), at: theta, iteration: iteration)
        }
        // CVODES integrates the running costs as its own forward quadratures.
        if variant == .partial, let cvode = task.integrator as? CVODE {
            return try runCVODES(system, task: task, theta: theta, integrator: cvode)
        }
        if task.integratesRunningCostAsState {
            return try estimate(task.withQuadratureState(), at: theta, iteration: iteration)
        }
        return try run(system, task: task, theta: theta)
    }

    /// How the partial adjoint crosses the smooth pieces between events: CVODES' adjoint module for a
    /// CVODE forward pass (as without events), else the stored trajectory and ``backwardIntegrator``.
    func betweenEvents(of integrator: any Integrator) -> EventGradient.Between {
        if let cvode = integrator as? CVODE { return .cvodes(CVODESAdjoint(integrator: cvode, options: cvodesOptions)) }
        return .adjoint(backwardIntegrator)
    }

    /// The partial adjoint through CVODES: forward with checkpoints and loss quadratures, seed
    /// from Φ, backward with jumps at the observation times.
    private func runCVODES<Base: VectorJacobianProviding, S, M, L>(
        _ base: Base, task: TrainingTask<S, M, L>, theta: [Double], integrator: CVODE
    ) throws -> GradientEstimate {
        let clock = DispatchTime.now().uptimeNanoseconds
        let parts = try task.split(theta)
        let problem = try ODEProblem(system: base, initialState: task.initialState, parameters: parts.system, timeSpan: task.timeSpan)
        let loss = task.loss
        let integrand = loss.integrandCount == 0 ? nil : DifferentiableRunningIntegrand(
            integrand: RunningIntegrand(count: loss.integrandCount) { t, y, r in loss.evaluateIntegrands(at: t, state: y, into: r) },
            pullback: { t, y, rBar, yBar in loss.accumulateIntegrandPullback(at: t, state: y, cotangent: rBar, into: yBar) })
        let pass = try CVODESAdjoint(integrator: integrator, options: cvodesOptions)
            .forward(problem, integrand: integrand, observationTimes: loss.observationTimes)
        let seed = loss.valueAndGradient(integrals: pass.integrals, observations: pass.observations, parameters: parts.loss)
        guard seed.value.isFinite else { throw TrainingError.nonFiniteLoss(seed.value) }
        let adjoint = try pass.backward(integralCotangents: seed.integrals, observationCotangents: seed.observations)
        let statistics = adjoint.statistics
        var report = GradientReport()
        report.forwardSolves = 1
        report.bytesStored = statistics.checkpointBytes
        report.rightHandSideEvaluations = statistics.forward.rightHandSideEvaluations + statistics.backward.rightHandSideEvaluations
        // Every backward right-hand side and gradient-quadrature evaluation is one pullback.
        report.vectorJacobianProducts = statistics.backward.rightHandSideEvaluations + statistics.backwardQuadratureEvaluations
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        let gradient = task.trainedParameters.map { adjoint.parameterGradient[$0] } + seed.parameters
        return GradientEstimate(loss: seed.value, gradient: gradient, report: report)
    }

    private func run<Base: VectorJacobianProviding, S, M, L>(
        _ base: Base, task: TrainingTask<S, M, L>, theta: [Double]
    ) throws -> GradientEstimate {
        let clock = DispatchTime.now().uptimeNanoseconds
        let parts = try task.split(theta)
        let (t0, tEnd) = task.timeSpan
        guard tEnd > t0 else { throw ODEError.invalidTimeSpan(start: t0, end: tEnd, reason: "adjoints need a forward span") }
        let problem = try ODEProblem(system: base, initialState: task.initialState, parameters: parts.system, timeSpan: task.timeSpan)
        let n = base.dimension, p = parts.system.count
        let observationTimes = task.loss.observationTimes
        var report = GradientReport()

        // Forward pass.
        let diagnosticTimes = variant == .full || recordsRunningGradient
            ? (0...max(1, diagnosticPoints)).map { t0 + (tEnd - t0) * Double($0) / Double(max(1, diagnosticPoints)) } : []
        let forwardTimes = Array(Set(diagnosticTimes + observationTimes)).sorted()
        let forward = try task.integrator.solve(
            problem, output: variant == .full ? .times(forwardTimes) : .everyStep(1), integrand: task.runningIntegrand)
        report.rightHandSideEvaluations += forward.statistics.rightHandSideEvaluations
        var observations = [Double](repeating: 0, count: observationTimes.count * n)
        var stored: StoredTrajectory?
        switch variant {
        case .full:
            for (k, time) in observationTimes.enumerated() {
                let row = forward.times.firstIndex(of: time)!
                observations.replaceSubrange((k * n)..<((k + 1) * n), with: forward.state(at: row))
            }
        case .partial:
            let trajectory = try StoredTrajectory(solution: forward, system: base, parameters: parts.system)
            observations.withUnsafeMutableBufferPointer { buffer in
                for (k, time) in observationTimes.enumerated() {
                    trajectory.interpolate(at: time, into: UnsafeMutableBufferPointer(rebasing: buffer[(k * n)..<((k + 1) * n)]))
                }
            }
            report.bytesStored = trajectory.byteCount
            report.rightHandSideEvaluations += forward.times.count
            stored = trajectory
        }
        let seed = task.loss.valueAndGradient(integrals: forward.integrals, observations: observations, parameters: parts.loss)
        guard seed.value.isFinite else { throw TrainingError.nonFiniteLoss(seed.value) }

        // Backward pass, segment by segment between observation times.
        let lambdaOffset = variant == .full ? n : 0
        var state = variant == .full ? forward.finalState + [Double](repeating: 0, count: n + p)
                                     : [Double](repeating: 0, count: n + p)
        if variant == .full { report.bytesStored = state.count * MemoryLayout<Double>.stride }
        var boundaries = observationTimes.enumerated().map { (time: $0.element, index: $0.offset as Int?) }
        boundaries.reverse()
        boundaries.append((t0, nil))
        var current = tEnd
        for boundary in boundaries {
            if boundary.time < current {
                let segment = try backward(
                    base: base, task: task, stored: stored, integralsCotangent: seed.integrals, parameters: parts.system,
                    state: state, from: current, to: boundary.time, diagnostics: diagnosticTimes)
                state = segment.finalState
                report.rightHandSideEvaluations += segment.statistics.rightHandSideEvaluations
                report.vectorJacobianProducts += segment.statistics.rightHandSideEvaluations
                if recordsRunningGradient {
                    let gradientOffset = segment.dimension - p
                    for (row, time) in segment.times.enumerated() where diagnosticTimes.contains(time) {
                        let base = row * segment.dimension + gradientOffset
                        report.runningGradient.append(
                            RunningGradientSample(time: time, gradient: task.trainedParameters.map { segment.states[base + $0] }))
                    }
                }
                for (row, time) in segment.times.enumerated() where variant == .full {
                    guard let forwardRow = forward.times.firstIndex(of: time) else { continue }
                    var squared = 0.0, norm = 0.0
                    for i in 0..<n {
                        let reference = forward.states[forwardRow * n + i]
                        let difference = segment.states[row * segment.dimension + i] - reference
                        squared += difference * difference
                        norm += reference * reference
                    }
                    let distance = squared.squareRoot(), relative = distance / (1 + norm.squareRoot())
                    report.drift.append(DriftSample(time: time, distance: distance, relativeDistance: relative))
                    if !allowsDrift, !(relative <= driftTolerance) {
                        throw TrainingError.backsolveDiverged(model: base.name, time: time, drift: relative, tolerance: driftTolerance)
                    }
                }
                current = boundary.time
            }
            if let k = boundary.index {
                for i in 0..<n { state[lambdaOffset + i] += seed.observations[k * n + i] }
            }
        }
        let systemGradient = Array(state[(lambdaOffset + n)...])
        report.forwardSolves = 1
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        let gradient = task.trainedParameters.map { systemGradient[$0] } + seed.parameters
        return GradientEstimate(loss: seed.value, gradient: gradient, report: report)
    }

    private func backward<Base: VectorJacobianProviding, S, M, L>(
        base: Base, task: TrainingTask<S, M, L>, stored: StoredTrajectory?, integralsCotangent: [Double],
        parameters: [Double], state: [Double], from start: Double, to end: Double, diagnostics: [Double]
    ) throws -> Solution {
        // Diagnostic outputs strictly inside the segment, in the backward direction, plus its end.
        let inside = diagnostics.filter { $0 < start && $0 > end }.reversed() + [end]
        if let stored {
            let system = InterpolatedAdjointSystem(base: base, loss: task.loss, integralsCotangent: integralsCotangent, trajectory: stored)
            let problem = try ODEProblem(system: system, initialState: state, parameters: parameters, timeSpan: (start, end))
            return try backwardIntegrator.solve(problem, output: recordsRunningGradient ? .times(Array(inside)) : .finalState)
        }
        let system = BacksolveAdjointSystem(base: base, loss: task.loss, integralsCotangent: integralsCotangent)
        let problem = try ODEProblem(system: system, initialState: state, parameters: parameters, timeSpan: (start, end))
        do {
            return try backwardIntegrator.solve(problem, output: .times(Array(inside)))
        } catch {
            // The backsolve, not the model, blew up: the backward flow of an irreversible system.
            switch error {
            case let .nonFiniteState(time, _, _), let .stepSizeTooSmall(time, _), let .stepBudgetExhausted(time, _),
                 let .solverFailure(_, _, time, _):
                throw TrainingError.backsolveDiverged(model: base.name, time: time, drift: .infinity, tolerance: driftTolerance)
            default:
                throw error
            }
        }
    }
}
