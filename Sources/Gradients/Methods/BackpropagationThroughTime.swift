import Foundation
import NeuroODE

/// Backpropagation through time: the exact gradient of the discrete forward map (the loss the
/// integrator actually computes), by a reverse sweep over the stored steps.
///
/// Memory is O(steps × state) when every state is stored. Checkpointing keeps every k-th state and
/// recomputes the segments in the reverse pass, so memory is O(steps/k + k) for roughly one extra
/// forward pass; the gradient is the same to rounding. k comes either directly or from a memory
/// budget (the smallest k whose checkpoints and segment fit, which is the fastest that fits).
///
/// **Threads.** A batch of independent trials (a ``TrialBatchedSystem`` with a
/// ``TrialSeparableLoss``) is always cut into the same ``batchParts`` parts (at most the system's
/// ``TrialBatchedSystem/maximumParts``), whatever the number of threads; `threads` workers sweep
/// them and the θ̄ of the parts are added in part order. The partition and the summation order
/// never depend on the core count, so the gradient is bit-identical for any `threads`
/// (README "Reliability: limits, threads, interruption"). Checkpointing applies within every part; a memory budget is
/// shared among them. An adaptive scheme (dopri5) records each part's step grid in that part's
/// own solve, in parallel, so each part's steps are controlled on its own trials' error (the
/// spiral's windows: README "Performance"). Other tasks run on one thread.
///
/// Supported forward maps: those of any ``DifferentiableStepper`` (dispatch is by that capability,
/// never by integrator type): `Leapfrog` on systems with `ConductanceBasedPullbacks`, and
/// `DormandPrince` on systems with vector–Jacobian products, through the accepted steps of the
/// forward solve at θ (with the observation times added to the grid, so observations are states
/// of the map rather than dense-output interpolants). A scheme that pulls back through the
/// right-hand side runs a system without vector–Jacobian products through
/// ``FiniteDifferenceVJPSystem`` (central differences of its right-hand side, with a one-time warning).
/// A system with events (``EventSystem`` resets) goes through ``EventGradient`` (the stepper's
/// steps between events, the transposed saltation matrix at each) when it is a
/// ``DifferentiableEventSystem``, every state is stored and the loss observes only the end of the
/// horizon (running costs become quadrature state); otherwise it is refused with
/// ``TrainingError/eventsUnsupported(model:method:)`` before anything is computed.
public struct BackpropagationThroughTime: GradientMethod, SharesWorkAmongRanks {
    /// Which forward states the reverse sweep keeps; the others are recomputed from a checkpoint.
    public enum Checkpointing: Sendable, Equatable {
        /// Store every state (plain BPTT).
        case none
        /// Store every k-th state.
        case interval(Int)
        /// Choose k so that the stored states fit in this many bytes.
        case memoryBudget(bytes: Int)
        /// k = ⌈√N⌉, which minimises the stored states ⌈N/k⌉ + k.
        case squareRoot
    }

    /// What is stored for the reverse sweep (default: every state).
    public var checkpointing: Checkpointing
    /// Cores a batch of independent trials is spread over.
    public var threads: Int
    /// The ranks a batch's parts are spread over (README "Beyond one machine: MPI"): each sweeps a
    /// contiguous block of the ``batchParts`` parts and the parts' θ̄ are exchanged and added in
    /// part order, so the gradient is bit-identical for any number of ranks. Other tasks are
    /// computed whole by every rank.
    public var communicator: any Communicator

    /// The number of parts a batch of independent trials is cut into: a constant, so that the
    /// partition (and with it every rounding) is the same on every machine and thread count.
    public static let batchParts = 8

    /// A BPTT estimator storing the states `checkpointing` asks for and spreading independent trials
    /// over `threads` cores (at least 1).
    public init(
        checkpointing: Checkpointing = .none, threads: Int = Parallelism.defaultThreadCount,
        communicator: any Communicator = ProcessGroup.world
    ) {
        self.checkpointing = checkpointing
        self.threads = max(1, threads)
        self.communicator = communicator
    }

    public var name: String { checkpointing == .none ? "bptt" : "bptt-checkpointed" }

    public func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        try task.requireDoublePrecision(by: name)
        guard let stepper = task.integrator as? any DifferentiableStepper else {
            if task.system is any EventSystem {
                throw TrainingError.eventsUnsupported(model: task.system.name, method: "\(name) with \(task.integrator.name)")
            }
            throw TrainingError.unsupported(
                "bptt differentiates the steps of a scheme that defines their pullback (leapfrog, dopri5); \(task.integrator.name) does not: use the adjoint methods")
        }
        // Before any wrapper (which would hide the events) and before any computation.
        if task.system is any EventSystem {
            // Running costs cross the resets only as quadrature state, which a stepper that sums them
            // over its own steps (the leapfrog) does not integrate.
            guard checkpointing == .none, stepper.locatesEvents, task.loss.observationTimes.allSatisfy({ $0 == task.timeSpan.end }),
                  task.loss.integrandCount == 0 || task.integratesRunningCostAsState,
                  let system = task.system as? any (DifferentiableEventSystem & VectorJacobianProviding) else {
                throw TrainingError.eventsUnsupported(model: task.system.name, method: "\(name) with \(task.integrator.name)")
            }
            if task.integratesRunningCostAsState {
                return try estimate(task.withQuadratureState(), at: theta, iteration: iteration)
            }
            return try EventGradient.estimate(system, task: task, at: theta, between: .steps(stepper))
        }
        if stepper.pullsBackThroughRightHandSide, !(task.system is any VectorJacobianProviding) {
            return try estimate(task.withFiniteDifferenceVJPs(for: name), at: theta, iteration: iteration)
        }
        if task.integratesRunningCostAsState {
            return try estimate(task.withQuadratureState(), at: theta, iteration: iteration)
        }
        let parts = try task.split(theta)
        let problem = try ODEProblem(
            system: task.system, initialState: task.initialState, parameters: parts.system, timeSpan: task.timeSpan)
        if let estimate = try throughParts(stepper, task: task, problem: problem, lossParameters: parts.loss) {
            return estimate
        }
        let grid = try stepper.stepGrid(for: problem, observationTimes: task.loss.observationTimes)
        return try sweep(stepper.forwardMap(for: problem, grid: grid), task: task, lossParameters: parts.loss)
    }

    /// The sweep with the batch cut into min(``batchParts``, maximum) parts, swept by `threads`
    /// workers; nil when the task is not a batch of independent trials or there is only one part.
    /// A fixed-grid scheme steps every part through the whole problem's grid; an adaptive one
    /// records each part's own grid, in that part's worker.
    private func throughParts<S, M, L>(
        _ stepper: any DifferentiableStepper, task: TrainingTask<S, M, L>, problem: ODEProblem<S>, lossParameters: [Double]
    ) throws -> GradientEstimate? {
        guard let batched = task.system as? any TrialBatchedSystem,
              let separable = task.loss as? any TrialSeparableLoss,
              separable.trialCount == (try batched.batchRanges(parts: 1)).first?.count else { return nil }
        let parts = min(Self.batchParts, batched.maximumParts)
        guard parts > 1,
              let losses = try batched.batchRanges(parts: parts).map({ (range) throws(ODEError) in
                  try separable.restricted(toTrials: range)
              }) as? [L]
        else { return nil }
        let observationTimes = task.loss.observationTimes
        let grid = stepper.hasFixedGrid ? try stepper.stepGrid(for: problem, observationTimes: observationTimes) : nil
        let map = try partMaps(batched, stepper, problem: problem, grid: grid, observationTimes: observationTimes, parts: parts)
        // This rank's first part (a rank left without parts builds the last one, for its type only).
        let first = min(BlockExchange(count: parts, communicator: communicator).block.lowerBound, parts - 1)
        return try sweepParts(map(first), first: first, map: map, task: task, losses: losses, lossParameters: lossParameters)
    }

    /// Part k's map of `system`'s batch cut into `parts`: on `grid` when given, else on the grid
    /// of the part's own recording solve.
    private func partMaps<B: TrialBatchedSystem, S>(
        _ system: B, _ stepper: any DifferentiableStepper, problem: ODEProblem<S>, grid: [Double]?,
        observationTimes: [Double], parts: Int
    ) throws -> (Int) throws -> any DiscreteForwardMap {
        let systems = try system.splitBatch(into: parts), states = try system.splitState(problem.initialState, into: parts)
        let parameters = problem.parameters, timeSpan = (start: problem.startTime, end: problem.endTime)
        return { part in
            let piece = try ODEProblem(system: systems[part], initialState: states[part], parameters: parameters, timeSpan: timeSpan)
            return try stepper.forwardMap(for: piece, grid: grid ?? stepper.stepGrid(for: piece, observationTimes: observationTimes))
        }
    }

    /// The parts' maps as the concrete type of this rank's first one (`firstMap`, part `first`), so
    /// the sweeps run specialised.
    private func sweepParts<Map: DiscreteForwardMap, S, M, L>(
        _ firstMap: Map, first: Int, map: @escaping (Int) throws -> any DiscreteForwardMap, task: TrainingTask<S, M, L>,
        losses: [L], lossParameters: [Double]
    ) throws -> GradientEstimate {
        // One interval for every part, chosen for the whole batch's state (a part's size times the
        // number of parts) and the part's own number of steps.
        let parts = losses.count
        let result = try TrialParallelSweep(
            partCount: parts,
            map: { part in
                if part == first { return firstMap }
                guard let typed = try map(part) as? Map else {
                    throw TrainingError.unsupported("the parts of \(task.system.name)'s batch gave maps of different types")
                }
                return typed
            },
            checkpointInterval: { map in
                self.checkpointInterval(steps: map.stepCount, stateBytes: parts * map.internalSize * MemoryLayout<Double>.stride)
            },
            losses: losses, lossParameters: lossParameters, parameterCount: firstMap.parameterCount, threads: threads,
            communicator: communicator).run()
        return try estimate(from: result, task: task)
    }

    private func sweep<Map: DiscreteForwardMap, S, M, L>(
        _ map: Map, task: TrainingTask<S, M, L>, lossParameters: [Double]
    ) throws -> GradientEstimate {
        let k = checkpointInterval(steps: map.stepCount, stateBytes: map.internalSize * MemoryLayout<Double>.stride)
        let result = try ReverseSweep(map: map, loss: task.loss, lossParameters: lossParameters, checkpointInterval: k).run()
        return try estimate(from: result, task: task)
    }

    /// The estimate over the task's trained parameters from a sweep's outcome.
    private func estimate<S, M, L>(from result: SweepOutcome, task: TrainingTask<S, M, L>
    ) throws -> GradientEstimate {
        guard result.loss.isFinite else { throw TrainingError.nonFiniteLoss(result.loss) }
        let gradient = task.trainedParameters.map { result.systemGradient[$0] } + result.lossGradient
        return GradientEstimate(loss: result.loss, gradient: gradient, report: result.report)
    }

    /// The checkpoint interval k for `steps` steps of states of `stateBytes` bytes.
    func checkpointInterval(steps: Int, stateBytes: Int) -> Int {
        switch checkpointing {
        case .none:
            return 1
        case let .interval(k):
            return max(1, k)
        case .squareRoot:
            return max(1, Int(Double(steps).squareRoot().rounded(.up)))
        case let .memoryBudget(bytes):
            let states = bytes / max(1, stateBytes)
            // Stored: ⌈N/k⌉ checkpoints + a k-state segment; the smallest k that fits is fastest.
            for k in 1...max(1, steps) where (steps + k - 1) / k + k <= states { return k }
            return max(1, Int(Double(steps).squareRoot().rounded()))
        }
    }
}
