import Dispatch
import NeuroODE

/// Gradients through events (README "Gradients through events"; EventProp, Wunderlich & Pehle
/// 2021, is the LIF case): the adjoint of a trajectory with resets, swept backward one smooth piece
/// between two events at a time, from the states the forward pass stored.
///
/// Between events the adjoint λ and the parameter cotangent θ̄ are carried back either by the
/// continuous adjoint λ' = −(∂f/∂y)ᵀλ, θ̄' = −(∂f/∂θ)ᵀλ with the state read from the stored piece
/// (``Between/adjoint(_:)``, the partial adjoint), or by backpropagation through the forward's
/// accepted dopri5 steps on the piece, replayed from its post-reset state (``Between/dormandPrinceSteps``,
/// BPTT; step sizes are data, as in the plain BPTT through dopri5). At an event at t* with reset
/// y⁺ = h(y⁻, θ), event function g and loss weight ℓ' = ∂L/∂t*, the adjoint jumps by the
/// transposed saltation matrix Sᵀ plus the loss's own term:
///
///     ġ = ∂g/∂y·f⁻ + ∂g/∂t,   μ = (λ⁺·f⁺ − (∂h/∂yᵀλ⁺)·f⁻ − ℓ') / ġ,
///     λ⁻ = ∂h/∂yᵀλ⁺ + μ ∂g/∂yᵀ,   θ̄ += ∂h/∂θᵀλ⁺ + μ ∂g/∂θᵀ,
///
/// which is λ⁻ = Sᵀλ⁺ − ℓ'∂g/∂yᵀ/ġ with S = ∂h/∂y + (f⁺ − ∂h/∂y·f⁻)∂g/∂y/ġ (the event time moves by
/// dt* = −(∂g/∂y·δy⁻ + ∂g/∂θ·δθ)/ġ, by the implicit function theorem). The forward integrator must
/// locate each event inside its step (dopri5 on its dense output, CVODE with its root finder): the
/// spike times are then smooth in θ and the pre-event state is the one the integrator reset. The
/// event time enters through the continuous event condition in both variants, so BPTT here is the
/// gradient of the replayed steps between events, not of the dense-output root itself (they differ
/// at the forward tolerance).
enum EventGradient {
    /// How the adjoint is carried across a smooth piece.
    enum Between {
        /// The continuous adjoint, integrated backward by this integrator (dopri5 or CVODE).
        case adjoint(any Integrator)
        /// Backpropagation through the forward's dopri5 steps on the piece.
        case dormandPrinceSteps
    }

    /// The loss and gradient of `task` at θ, carrying the adjoint across each piece as `between` says.
    static func estimate<S: DifferentiableEventSystem & VectorJacobianProviding, M: Integrator>(
        _ task: SpikeTimingTask<S, M>, at theta: [Double], between: Between
    ) throws -> GradientEstimate {
        let clock = DispatchTime.now().uptimeNanoseconds
        let problem = try task.problem(at: theta)
        let system = task.system, parameters = problem.parameters
        let n = system.dimension, p = parameters.count
        let forward = try task.integrator.solve(problem, output: .everyStep(1))
        let spikes = task.loss.spikeTimes(forward.events, horizonEnd: task.horizon)
        let value = task.loss.value(spikeTimes: spikes)
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(value) }
        let fired = min(forward.events.filter { $0.index == task.loss.eventIndex }.count, task.loss.count)
        let weights = task.loss.timeCotangents(spikeTimes: spikes, fired: fired)

        var report = GradientReport()
        report.forwardSolves = 1
        report.rightHandSideEvaluations = forward.statistics.rightHandSideEvaluations
        report.bytesStored = (forward.states.count + forward.times.count) * MemoryLayout<Double>.stride

        // The events up to the last counted spike (later ones cannot move it), grouped by time
        // (simultaneous events share the stored pre-event row) with their loss weights.
        var groups: [(time: Double, row: Int, events: [(index: Int, weight: Double)])] = []
        var counted = 0, row = 0
        for event in forward.events where counted < fired {
            var weight = 0.0
            if event.index == task.loss.eventIndex {
                weight = weights[counted]
                counted += 1
            }
            if let last = groups.last, last.time == event.time {
                groups[groups.count - 1].events.append((event.index, weight))
                continue
            }
            while row < forward.times.count, forward.times[row] != event.time { row += 1 }
            guard row < forward.times.count else {
                throw TrainingError.unsupported("\(task.integrator.name) did not record the state at the event at t = \(event.time)")
            }
            groups.append((event.time, row, [(event.index, weight)]))
        }

        // Backward: [λ | θ̄], jumping at each group and integrating the piece before it.
        var adjoint = [Double](repeating: 0, count: n + p)
        var scratch = EventJumpScratch(dimension: n, parameterCount: p)
        for k in stride(from: groups.count - 1, through: 0, by: -1) {
            let group = groups[k]
            let preState = Array(forward.states[(group.row * n)..<((group.row + 1) * n)])
            try scratch.jump(system, at: group.time, preState: preState, events: group.events, parameters: parameters, adjoint: &adjoint)
            report.rightHandSideEvaluations += 2 * group.events.count

            // The piece from the previous event's post-reset state (or y0) to this event.
            let (startTime, startState, firstRow) = k == 0
                ? (0.0, problem.initialState, 1)
                : (groups[k - 1].time, postResetState(system, groups[k - 1], forward: forward, parameters: parameters), groups[k - 1].row + 1)
            let times = [startTime] + forward.times[firstRow...group.row]
            let states = startState + forward.states[(firstRow * n)..<((group.row + 1) * n)]
            switch between {
            case let .adjoint(backwardIntegrator):
                let trajectory = try StoredTrajectory(times: times, states: states, system: system, parameters: parameters)
                report.rightHandSideEvaluations += times.count
                let piece = InterpolatedAdjointSystem(
                    base: system, loss: StateIntegralLoss(weights: []), integralsCotangent: [], trajectory: trajectory)
                let backward = try backwardIntegrator.solve(
                    ODEProblem(system: piece, initialState: adjoint, parameters: parameters, timeSpan: (group.time, startTime)),
                    output: .finalState)
                adjoint = backward.finalState
                report.rightHandSideEvaluations += backward.statistics.rightHandSideEvaluations
                report.vectorJacobianProducts += backward.statistics.rightHandSideEvaluations
            case .dormandPrinceSteps:
                let steps = times.count - 1
                try backpropagate(
                    DormandPrinceMap(
                        problem: ODEProblem(system: system, initialState: startState, parameters: parameters, timeSpan: (startTime, group.time)),
                        grid: times),
                    adjoint: &adjoint)
                report.rightHandSideEvaluations += 2 * 6 * steps
                report.vectorJacobianProducts += 6 * steps
            }
        }
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return GradientEstimate(loss: value, gradient: task.trainedParameters.map { adjoint[n + $0] }, report: report)
    }

    /// Carries [λ | θ̄] back across `map`'s steps: replays them from its initial state, storing
    /// every state, then pulls λ back step by step (θ̄ accumulating in place).
    private static func backpropagate<Map: DiscreteForwardMap>(_ map: Map, adjoint: inout [Double]) throws {
        let n = map.dimension, steps = map.stepCount
        var states = [Double](repeating: 0, count: (steps + 1) * n)
        var reported = [Double](repeating: 0, count: n)
        try states.withUnsafeMutableBufferPointer { (z) throws(ODEError) in
            try map.initialize(into: UnsafeMutableBufferPointer(rebasing: z[0..<n]))
            for k in 0..<steps {
                try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                    try map.step(
                        k, from: UnsafeBufferPointer(rebasing: z[(k * n)..<((k + 1) * n)]),
                        to: UnsafeMutableBufferPointer(rebasing: z[((k + 1) * n)..<((k + 2) * n)]), reporting: y)
                }
            }
        }
        try states.withUnsafeBufferPointer { (z) throws(ODEError) in
            try adjoint.withUnsafeMutableBufferPointer { (all) throws(ODEError) in
                let lambda = UnsafeMutableBufferPointer(rebasing: all[0..<n])
                let theta = UnsafeMutableBufferPointer(rebasing: all[n...])
                for k in stride(from: steps - 1, through: 0, by: -1) {
                    try map.pullbackStep(
                        k, from: UnsafeBufferPointer(rebasing: z[(k * n)..<((k + 1) * n)]), cotangent: lambda,
                        parameterCotangent: theta, seed: { _, _ in })
                }
            }
        }
    }

    /// The state right after every event of `group`, applied in order to its stored pre-event state.
    private static func postResetState<S: EventSystem>(
        _ system: S, _ group: (time: Double, row: Int, events: [(index: Int, weight: Double)]), forward: Solution,
        parameters: [Double]
    ) -> [Double] {
        let n = system.dimension
        var state = Array(forward.states[(group.row * n)..<((group.row + 1) * n)])
        parameters.withUnsafeBufferPointer { p in
            state.withUnsafeMutableBufferPointer { y in
                for event in group.events { system.applyEvent(event.index, at: group.time, state: y, parameters: p) }
            }
        }
        return state
    }
}

/// Buffers of one event jump, allocated once per gradient.
private struct EventJumpScratch {
    var before, after, fBefore, fAfter, stateGradient, resetBar: [Double]
    var parameterGradient: [Double]

    init(dimension n: Int, parameterCount p: Int) {
        before = Array(repeating: 0, count: n)
        after = before
        fBefore = before
        fAfter = before
        stateGradient = before
        resetBar = before
        parameterGradient = Array(repeating: 0, count: p)
    }

    /// Applies the jumps of `events` (simultaneous, fired in this order at `t` from `preState`) to
    /// the adjoint [λ | θ̄], last event first.
    mutating func jump<S: DifferentiableEventSystem>(
        _ system: S, at t: Double, preState: [Double], events: [(index: Int, weight: Double)], parameters: [Double],
        adjoint: inout [Double]
    ) throws {
        let n = system.dimension
        // The intermediate states: states[i] is the state before event i, states[count] after all.
        var states = [preState]
        for event in events {
            var next = states[states.count - 1]
            parameters.withUnsafeBufferPointer { p in
                next.withUnsafeMutableBufferPointer { system.applyEvent(event.index, at: t, state: $0, parameters: p) }
            }
            states.append(next)
        }
        for (i, event) in events.enumerated().reversed() {
            before = states[i]
            after = states[i + 1]
            let gDot = try parameters.withUnsafeBufferPointer { (p) throws -> Double in
                try before.withUnsafeBufferPointer { y in try fBefore.withUnsafeMutableBufferPointer { try system.rightHandSide(t, y, p, $0) } }
                try after.withUnsafeBufferPointer { y in try fAfter.withUnsafeMutableBufferPointer { try system.rightHandSide(t, y, p, $0) } }
                let gt = before.withUnsafeBufferPointer { y in
                    stateGradient.withUnsafeMutableBufferPointer { gy in
                        parameterGradient.withUnsafeMutableBufferPointer { gp in
                            system.eventFunctionGradient(event.index, at: t, state: y, parameters: p, stateGradient: gy, parameterGradient: gp)
                        }
                    }
                }
                return zip(stateGradient, fBefore).reduce(gt) { $0 + $1.0 * $1.1 }
            }
            let scale = zip(stateGradient, fBefore).reduce(0) { $0 + abs($1.0 * $1.1) }
            guard abs(gDot) > 1e-12 * scale, gDot.isFinite else {
                throw TrainingError.unsupported(
                    "event \(event.index) of \(system.name) at t = \(t) grazes its threshold (dg/dt = \(gDot)): its time is not differentiable there")
            }
            // a = ∂h/∂yᵀλ⁺ (into resetBar), ∂h/∂θᵀλ⁺ straight into θ̄.
            for j in 0..<n { resetBar[j] = 0 }
            let lambda = Array(adjoint[0..<n])
            parameters.withUnsafeBufferPointer { p in
                before.withUnsafeBufferPointer { y in
                    lambda.withUnsafeBufferPointer { l in
                        resetBar.withUnsafeMutableBufferPointer { a in
                            adjoint.withUnsafeMutableBufferPointer { all in
                                system.accumulateResetPullback(
                                    event.index, at: t, state: y, parameters: p, cotangent: l, stateCotangent: a,
                                    parameterCotangent: UnsafeMutableBufferPointer(rebasing: all[n...]))
                            }
                        }
                    }
                }
            }
            var numerator = -event.weight
            for j in 0..<n { numerator += lambda[j] * fAfter[j] - resetBar[j] * fBefore[j] }
            let mu = numerator / gDot
            for j in 0..<n { adjoint[j] = resetBar[j] + mu * stateGradient[j] }
            for k in parameterGradient.indices { adjoint[n + k] += mu * parameterGradient[k] }
        }
    }
}
