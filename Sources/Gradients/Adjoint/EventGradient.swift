import Dispatch
import NeuroODE

/// Gradients through events (README "Gradients through events"; EventProp, Wunderlich & Pehle
/// 2021, is the LIF case): the adjoint of a trajectory with resets, swept backward one smooth piece
/// between two events at a time, from the states the forward pass stored.
///
/// Between events the adjoint λ and the parameter cotangent θ̄ are carried back either by the
/// continuous adjoint λ' = −(∂f/∂y)ᵀλ, θ̄' = −(∂f/∂θ)ᵀλ with the state read from the stored piece
/// (``Between/adjoint(_:)``, the partial adjoint of a dopri5 forward pass), by CVODES' adjoint
/// module restarted on each piece (``Between/cvodes(_:)``, the partial adjoint of a CVODE forward
/// pass), or by backpropagation through the forward's steps on the piece, replayed from its post-reset state by the stepper's own map
/// (``Between/steps(_:)``, BPTT through dopri5's accepted steps or the leapfrog's; step sizes are
/// data, as in the plain BPTT). At an event at t* with reset
/// y⁺ = h(y⁻, θ), event function g and loss weight ℓ' = ∂L/∂t*, the adjoint jumps by the
/// transposed saltation matrix Sᵀ plus the loss's own term:
///
///     ġ = ∂g/∂y·f⁻ + ∂g/∂t,   μ = (λ⁺·f⁺ − (∂h/∂yᵀλ⁺)·f⁻ − λ⁺·∂h/∂t − ℓ') / ġ,
///     λ⁻ = ∂h/∂yᵀλ⁺ + μ ∂g/∂yᵀ,   θ̄ += ∂h/∂θᵀλ⁺ + μ ∂g/∂θᵀ,
///
/// which is λ⁻ = Sᵀλ⁺ − ℓ'∂g/∂yᵀ/ġ with S = ∂h/∂y + (f⁺ − ∂h/∂y·f⁻ − ∂h/∂t)∂g/∂y/ġ (the event time moves by
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
        /// Backpropagation through the forward's steps on the piece, by the stepper's own map.
        case steps(any DifferentiableStepper)
        /// The continuous adjoint through CVODES' adjoint module, one pass per piece: the piece is
        /// integrated again from its post-reset state to its event time (checkpoints, its events
        /// hidden by ``SmoothPiece``), and CVODES' backward problem, started from λ⁺ at the event,
        /// carries λ and θ̄ (a backward quadrature) to the piece's start. So the backward problem
        /// restarts at each event, after the jump, as CVODES must: a reset breaks its checkpoints.
        case cvodes(CVODESAdjoint)
    }

    /// The loss and gradient of a spike-timing task at θ, carrying the adjoint across each piece as
    /// `between` says. Only the events up to the last counted spike matter (later ones cannot move it).
    static func estimate<S: DifferentiableEventSystem & VectorJacobianProviding, M: Integrator>(
        _ task: SpikeTimingTask<S, M>, at theta: [Double], between: Between
    ) throws -> GradientEstimate {
        let clock = DispatchTime.now().uptimeNanoseconds
        let problem = try task.problem(at: theta)
        let forward = try task.integrator.solve(problem, output: .everyStep(1))
        let spikes = task.loss.spikeTimes(forward.events, horizonEnd: task.horizon)
        let value = task.loss.value(spikeTimes: spikes)
        guard value.isFinite else { throw TrainingError.nonFiniteLoss(value) }
        let fired = min(forward.events.filter { $0.index == task.loss.eventIndex }.count, task.loss.count)
        let weights = task.loss.timeCotangents(spikeTimes: spikes, fired: fired)
        var weighted: [(event: Solution.Event, weight: Double)] = []
        var counted = 0
        for event in forward.events where counted < fired {
            var weight = 0.0
            if event.index == task.loss.eventIndex {
                weight = weights[counted]
                counted += 1
            }
            weighted.append((event, weight))
        }
        let pieces = try Pieces(system: task.system, problem: problem, forward: forward, events: weighted, integrator: task.integrator.name)
        var outcome = try pieces.sweep(
            end: weighted.last?.event.time ?? problem.startTime, observations: [], between: between)
        outcome.report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return GradientEstimate(loss: value, gradient: task.trainedParameters.map { outcome.parameterCotangent[$0] }, report: outcome.report)
    }

    /// The gradient of a training task whose system has events: its loss Φ(Y, θ_L) on the states at
    /// the observation times (running costs already carried as quadrature state, which the resets
    /// leave alone), read from the stored pieces; every event before the last observation is
    /// differentiated, with no loss weight of its own. BPTT (``Between/steps(_:)``) takes
    /// observations at the end of the horizon only.
    static func estimate<Base: DifferentiableEventSystem & VectorJacobianProviding, S, M, L>(
        _ base: Base, task: TrainingTask<S, M, L>, at theta: [Double], between: Between
    ) throws -> GradientEstimate {
        let clock = DispatchTime.now().uptimeNanoseconds
        precondition(task.loss.integrandCount == 0, "running costs are integrated as quadrature state first")
        let parts = try task.split(theta)
        let problem = try ODEProblem(system: base, initialState: task.initialState, parameters: parts.system, timeSpan: task.timeSpan)
        guard problem.endTime > problem.startTime else {
            throw ODEError.invalidTimeSpan(start: problem.startTime, end: problem.endTime, reason: "adjoints need a forward span")
        }
        let forward = try task.integrator.solve(problem, output: .everyStep(1))
        let times = task.loss.observationTimes, end = times.last ?? problem.startTime
        let events = forward.events.filter { $0.time < end }.map { (event: $0, weight: 0.0) }
        let pieces = try Pieces(system: base, problem: problem, forward: forward, events: events, integrator: task.integrator.name)
        let n = base.dimension
        var observed = [Double](repeating: 0, count: times.count * n)
        observed.withUnsafeMutableBufferPointer { buffer in
            for (k, time) in times.enumerated() {
                pieces.trajectory(containing: time).interpolate(
                    at: time, into: UnsafeMutableBufferPointer(rebasing: buffer[(k * n)..<((k + 1) * n)]))
            }
        }
        let seed = task.loss.valueAndGradient(integrals: [], observations: observed, parameters: parts.loss)
        guard seed.value.isFinite else { throw TrainingError.nonFiniteLoss(seed.value) }
        let cotangents = times.enumerated().map { k, time in (time: time, cotangent: Array(seed.observations[(k * n)..<((k + 1) * n)])) }
        var outcome = try pieces.sweep(end: end, observations: cotangents, between: between)
        outcome.report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        let gradient = task.trainedParameters.map { outcome.parameterCotangent[$0] } + seed.parameters
        return GradientEstimate(loss: seed.value, gradient: gradient, report: outcome.report)
    }
}

/// A forward trajectory cut at its events into smooth pieces: piece k runs from the post-reset
/// state of event group k − 1 (or y₀) to the pre-reset state of group k, and a last piece runs on
/// to the end of the solve. Simultaneous events form one group, sharing the stored pre-event row.
private struct Pieces<System: DifferentiableEventSystem & VectorJacobianProviding> {
    struct Group {
        let time: Double
        let row: Int
        var events: [(index: Int, weight: Double)]
    }

    let system: System
    let parameters: [Double]
    let groups: [Group]
    /// Per piece (one more than the groups): its times and row-major states.
    let times: [[Double]]
    let states: [[Double]]
    /// The stored pieces, interpolated by cubic Hermite polynomials.
    let trajectories: [StoredTrajectory]
    let forwardEvaluations: Int
    let bytesStored: Int

    init(
        system: System, problem: ODEProblem<System>, forward: Solution, events: [(event: Solution.Event, weight: Double)],
        integrator: String
    ) throws {
        self.system = system
        parameters = problem.parameters
        let n = system.dimension
        var groups: [Group] = []
        var row = 0
        for (event, weight) in events {
            if let last = groups.last, last.time == event.time {
                groups[groups.count - 1].events.append((event.index, weight))
                continue
            }
            while row < forward.times.count, forward.times[row] != event.time { row += 1 }
            guard row < forward.times.count else {
                throw TrainingError.unsupported("\(integrator) did not record the state at the event at t = \(event.time)")
            }
            groups.append(Group(time: event.time, row: row, events: [(event.index, weight)]))
        }
        self.groups = groups
        var times: [[Double]] = [], states: [[Double]] = []
        var startTime = problem.startTime, startState = problem.initialState, firstRow = 1
        for group in groups {
            times.append([startTime] + forward.times[firstRow...group.row])
            states.append(startState + forward.states[(firstRow * n)..<((group.row + 1) * n)])
            startTime = group.time
            startState = Array(forward.states[(group.row * n)..<((group.row + 1) * n)])
            problem.parameters.withUnsafeBufferPointer { p in
                startState.withUnsafeMutableBufferPointer { y in
                    for event in group.events { system.applyEvent(event.index, at: group.time, state: y, parameters: p) }
                }
            }
            firstRow = group.row + 1
        }
        let lastRow = forward.times.count - 1
        times.append([startTime] + (firstRow <= lastRow ? Array(forward.times[firstRow...lastRow]) : [forward.finalTime]))
        states.append(startState + (firstRow <= lastRow ? Array(forward.states[(firstRow * n)...]) : forward.finalState))
        self.times = times
        self.states = states
        trajectories = try zip(times, states).map { try StoredTrajectory(times: $0, states: $1, system: system, parameters: problem.parameters) }
        forwardEvaluations = forward.statistics.rightHandSideEvaluations + times.reduce(0) { $0 + $1.count }
        bytesStored = (forward.states.count + forward.times.count) * MemoryLayout<Double>.stride
    }

    /// The piece whose span contains `t` (the first one, at an event time).
    func trajectory(containing t: Double) -> StoredTrajectory {
        trajectories[groups.firstIndex { t <= $0.time } ?? groups.count]
    }

    /// Sweeps [λ | θ̄] back from `end` (λ = 0 there) to the start: across each piece as `between`
    /// says, adding each observation's cotangent to λ at its time and jumping at each event group.
    func sweep(
        end: Double, observations: [(time: Double, cotangent: [Double])], between: EventGradient.Between
    ) throws -> (parameterCotangent: [Double], report: GradientReport) {
        let n = system.dimension, p = parameters.count
        var report = GradientReport()
        report.forwardSolves = 1
        report.rightHandSideEvaluations = forwardEvaluations
        report.bytesStored = bytesStored
        var adjoint = [Double](repeating: 0, count: n + p)
        var scratch = EventJumpScratch(dimension: n, parameterCount: p)
        var pending = observations.filter { $0.time <= end }
        var current = end
        // CVODES' checkpoints of one piece at a time.
        var checkpointBytes = 0
        for k in stride(from: groups.count, through: 0, by: -1) {
            if k < groups.count {
                let group = groups[k]
                guard group.time <= end else { continue }
                let preState = Array(states[k][(states[k].count - n)...])
                try scratch.jump(system, at: group.time, preState: preState, events: group.events, parameters: parameters, adjoint: &adjoint)
                report.rightHandSideEvaluations += 2 * group.events.count
                current = group.time
            }
            let startTime = times[k][0]
            guard startTime < current else { continue }
            // Stops inside this piece: its observations (latest first), then its start.
            var stops: [(time: Double, cotangent: [Double]?)] = []
            while let last = pending.last, last.time > startTime {
                stops.append((last.time, last.cotangent))
                pending.removeLast()
            }
            stops.append((startTime, nil))
            switch between {
            case let .adjoint(backwardIntegrator):
                let piece = InterpolatedAdjointSystem(
                    base: system, loss: StateIntegralLoss(weights: []), integralsCotangent: [], trajectory: trajectories[k])
                for stop in stops {
                    if stop.time < current {
                        let backward = try backwardIntegrator.solve(
                            ODEProblem(system: piece, initialState: adjoint, parameters: parameters, timeSpan: (current, stop.time)),
                            output: .finalState)
                        adjoint = backward.finalState
                        report.rightHandSideEvaluations += backward.statistics.rightHandSideEvaluations
                        report.vectorJacobianProducts += backward.statistics.rightHandSideEvaluations
                        current = stop.time
                    }
                    if let cotangent = stop.cotangent { for i in 0..<n { adjoint[i] += cotangent[i] } }
                }
            case let .cvodes(cvodes):
                // The observations strictly inside the piece (increasing), then the piece's end,
                // which carries λ⁺ (plus an observation there) as its seed.
                var seeds: [(time: Double, cotangent: [Double])] = []
                for stop in stops.dropLast() {
                    if stop.time < current {
                        seeds.insert((stop.time, stop.cotangent!), at: 0)
                    } else {
                        for i in 0..<n { adjoint[i] += stop.cotangent![i] }
                    }
                }
                seeds.append((current, Array(adjoint[0..<n])))
                let pass = try cvodes.forward(
                    ODEProblem(system: SmoothPiece(base: system), initialState: Array(states[k][0..<n]), parameters: parameters,
                               timeSpan: (startTime, current)),
                    observationTimes: seeds.map(\.time))
                let backward = try pass.backward(observationCotangents: seeds.flatMap(\.cotangent))
                for i in 0..<n { adjoint[i] = backward.initialCotangent[i] }
                for j in 0..<p { adjoint[n + j] += backward.parameterGradient[j] }
                let statistics = backward.statistics
                report.rightHandSideEvaluations += statistics.forward.rightHandSideEvaluations + statistics.backward.rightHandSideEvaluations
                report.vectorJacobianProducts += statistics.backward.rightHandSideEvaluations + statistics.backwardQuadratureEvaluations
                checkpointBytes = max(checkpointBytes, statistics.checkpointBytes)
                current = startTime
            case let .steps(stepper):
                // Observations only where a piece ends (T, for running costs carried as quadrature).
                for stop in stops.dropLast() {
                    guard stop.time == current, let cotangent = stop.cotangent else {
                        throw TrainingError.unsupported(
                            "bptt through the events of \(system.name) takes observations only at the end of the horizon (one at t = \(stop.time))")
                    }
                    for i in 0..<n { adjoint[i] += cotangent[i] }
                }
                let grid = times[k].filter { $0 <= current }
                let map = try stepper.forwardMap(
                    for: ODEProblem(system: system, initialState: Array(states[k][0..<n]), parameters: parameters, timeSpan: (startTime, current)),
                    grid: grid)
                try EventGradient.backpropagate(map, adjoint: &adjoint)
                report.rightHandSideEvaluations += 2 * map.rightHandSidesPerStep * (grid.count - 1)
                report.vectorJacobianProducts += map.rightHandSidesPerStep * (grid.count - 1)
                current = startTime
            }
        }
        report.bytesStored += checkpointBytes
        return (Array(adjoint[n...]), report)
    }
}

extension EventGradient {
    /// Carries [λ | θ̄] back across `map`'s steps, λ the cotangent of the reported state at the
    /// piece's end: replays the steps from the map's initial state, storing every internal state,
    /// then pulls λ back through the terminal report, the steps and the initialization (θ̄
    /// accumulating in place), leaving in λ the cotangent of the piece's initial state.
    static func backpropagate<Map: DiscreteForwardMap>(_ map: Map, adjoint: inout [Double]) throws {
        let n = map.dimension, m = map.internalSize, steps = map.stepCount
        var states = [Double](repeating: 0, count: (steps + 1) * m)
        var reported = [Double](repeating: 0, count: n)
        try states.withUnsafeMutableBufferPointer { (z) throws(ODEError) in
            try map.initialize(into: UnsafeMutableBufferPointer(rebasing: z[0..<m]))
            for k in 0..<steps {
                try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                    try map.step(
                        k, from: UnsafeBufferPointer(rebasing: z[(k * m)..<((k + 1) * m)]),
                        to: UnsafeMutableBufferPointer(rebasing: z[((k + 1) * m)..<((k + 2) * m)]), reporting: y)
                }
            }
        }
        var internalBar = [Double](repeating: 0, count: m)
        try states.withUnsafeBufferPointer { (z) throws(ODEError) in
            try adjoint.withUnsafeMutableBufferPointer { (all) throws(ODEError) in
                let lambda = UnsafeMutableBufferPointer(rebasing: all[0..<n])
                let theta = UnsafeMutableBufferPointer(rebasing: all[n...])
                try internalBar.withUnsafeMutableBufferPointer { (bar) throws(ODEError) in
                    try map.pullbackTerminalReport(
                        from: UnsafeBufferPointer(rebasing: z[(steps * m)..<((steps + 1) * m)]), cotangent: bar,
                        parameterCotangent: theta, seed: { _, yBar in for i in 0..<n { yBar[i] += lambda[i] } })
                    for k in stride(from: steps - 1, through: 0, by: -1) {
                        try map.pullbackStep(
                            k, from: UnsafeBufferPointer(rebasing: z[(k * m)..<((k + 1) * m)]), cotangent: bar,
                            parameterCotangent: theta, seed: { _, _ in })
                    }
                    try map.pullbackInitialize(cotangent: UnsafeBufferPointer(bar), initialStateCotangent: lambda, parameterCotangent: theta)
                }
            }
        }
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
            // a = ∂h/∂yᵀλ⁺ (into resetBar), ∂h/∂θᵀλ⁺ straight into θ̄, and λ⁺ᵀ∂h/∂t.
            for j in 0..<n { resetBar[j] = 0 }
            let lambda = Array(adjoint[0..<n])
            let timeTerm = parameters.withUnsafeBufferPointer { p in
                before.withUnsafeBufferPointer { y in
                    lambda.withUnsafeBufferPointer { l in
                        resetBar.withUnsafeMutableBufferPointer { a in
                            adjoint.withUnsafeMutableBufferPointer { all in
                                return system.accumulateResetPullback(
                                    event.index, at: t, state: y, parameters: p, cotangent: l, stateCotangent: a,
                                    parameterCotangent: UnsafeMutableBufferPointer(rebasing: all[n...]))
                            }
                        }
                    }
                }
            }
            var numerator = -event.weight - timeTerm
            for j in 0..<n { numerator += lambda[j] * fAfter[j] - resetBar[j] * fBefore[j] }
            let mu = numerator / gDot
            for j in 0..<n { adjoint[j] = resetBar[j] + mu * stateGradient[j] }
            for k in parameterGradient.indices { adjoint[n + k] += mu * parameterGradient[k] }
        }
    }
}
