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
/// (Validation/RELIABILITY.md "Determinism"). Checkpointing applies within every part; a memory budget is
/// shared among them. Other tasks run on one thread.
///
/// Supported forward maps: `Leapfrog` on systems with `ConductanceBasedPullbacks`, and
/// `DormandPrince` on systems with vector–Jacobian products, through the accepted steps of the
/// forward solve at θ (with the observation times added to the grid, so observations are states
/// of the map rather than dense-output interpolants). A system without them runs through
/// ``FiniteDifferenceVJPSystem`` (central differences of its right-hand side, with a one-time warning).
/// A system with events (``EventSystem`` resets) goes through ``EventGradient`` (the accepted
/// dopri5 steps between events, the transposed saltation matrix at each) when it is a
/// ``DifferentiableEventSystem`` integrated by dopri5, every state is stored and the loss observes
/// only the end of the horizon (running costs become quadrature state); otherwise it is refused
/// with ``TrainingError/eventsUnsupported(model:method:)`` before anything is computed.
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
        // Before any wrapper (which would hide the events) and before any computation.
        if task.system is any EventSystem {
            guard checkpointing == .none, task.integrator is DormandPrince,
                  task.loss.observationTimes.allSatisfy({ $0 == task.timeSpan.end }),
                  let system = task.system as? any (DifferentiableEventSystem & VectorJacobianProviding) else {
                throw TrainingError.eventsUnsupported(model: task.system.name, method: "\(name) with \(task.integrator.name)")
            }
            if task.integratesRunningCostAsState {
                return try estimate(task.withQuadratureState(), at: theta, iteration: iteration)
            }
            return try EventGradient.estimate(system, task: task, at: theta, between: .dormandPrinceSteps)
        }
        if task.integrator is DormandPrince, !(task.system is any VectorJacobianProviding) {
            return try estimate(task.withFiniteDifferenceVJPs(for: name), at: theta, iteration: iteration)
        }
        if task.integratesRunningCostAsState {
            return try estimate(task.withQuadratureState(), at: theta, iteration: iteration)
        }
        let parts = try task.split(theta)
        if let leapfrog = task.integrator as? Leapfrog, let system = task.system as? any ConductanceBasedPullbacks {
            return try throughLeapfrog(system, task: task, parameters: parts, integrator: leapfrog)
        }
        if task.integrator is DormandPrince, let system = task.system as? any VectorJacobianProviding {
            return try throughDormandPrince(system, task: task, parameters: parts)
        }
        throw TrainingError.unsupported(
            "bptt needs dopri5 (any system), or leapfrog on a system with conductance pullbacks; \(task.system.name) with \(task.integrator.name) is neither (for CVODE, use the adjoint methods)")
    }

    private func throughDormandPrince<C: VectorJacobianProviding, S, M, L>(
        _ system: C, task: TrainingTask<S, M, L>, parameters: (system: [Double], loss: [Double])
    ) throws -> GradientEstimate {
        let problem = try ODEProblem(
            system: system, initialState: task.initialState, parameters: parameters.system, timeSpan: task.timeSpan)
        let accepted = try task.integrator.solve(problem, output: .everyStep(1)).times
        let grid = Array(Set(accepted + task.loss.observationTimes)).sorted(by: task.timeSpan.end > task.timeSpan.start ? (<) : (>))
        return try sweep(DormandPrinceMap(problem: problem, grid: grid), task: task, lossParameters: parameters.loss)
    }

    private func throughLeapfrog<C: ConductanceBasedPullbacks, S, M, L>(
        _ system: C, task: TrainingTask<S, M, L>, parameters: (system: [Double], loss: [Double]), integrator: Leapfrog
    ) throws -> GradientEstimate {
        if let estimate = try throughLeapfrogParts(system, task: task, parameters: parameters, integrator: integrator) {
            return estimate
        }
        let problem = try ODEProblem(
            system: system, initialState: task.initialState, parameters: parameters.system, timeSpan: task.timeSpan)
        return try sweep(LeapfrogMap(problem: problem, integrator: integrator), task: task, lossParameters: parameters.loss)
    }

    /// The leapfrog sweep with the batch cut into min(``batchParts``, maximum) parts, swept by
    /// `threads` workers; nil when the task is not a batch of independent trials or there is only
    /// one part.
    ///
    /// The parts come back through the existentials as the task's own system and loss types, so
    /// the sweeps run as specialised for those types as the whole-batch sweep does.
    private func throughLeapfrogParts<C: ConductanceBasedPullbacks, S, M, L>(
        _ system: C, task: TrainingTask<S, M, L>, parameters: (system: [Double], loss: [Double]), integrator: Leapfrog
    ) throws -> GradientEstimate? {
        guard let batched = system as? any TrialBatchedSystem,
              let separable = task.loss as? any TrialSeparableLoss else { return nil }
        let parts = min(Self.batchParts, batched.maximumParts)
        guard parts > 1,
              let systems = try batched.splitBatch(into: parts) as? [C],
              let losses = try batched.batchRanges(parts: parts).map({ (range) throws(ODEError) in
                  try separable.restricted(toTrials: range)
              }) as? [L]
        else { return nil }
        let states = try batched.splitState(task.initialState, into: parts)
        let maps = try (0..<parts).map { (part) throws(ODEError) in
            let problem = try ODEProblem(
                system: systems[part], initialState: states[part], parameters: parameters.system, timeSpan: task.timeSpan)
            return try LeapfrogMap(problem: problem, integrator: integrator)
        }
        // One interval for all parts, chosen for the whole batch's state (the parts' sizes add up to it).
        let stateBytes = maps.reduce(0) { $0 + $1.internalSize } * MemoryLayout<Double>.stride
        let k = checkpointInterval(steps: maps[0].stepCount, stateBytes: stateBytes)
        let result = try TrialParallelSweep(
            maps: maps, losses: losses, lossParameters: parameters.loss, checkpointInterval: k, threads: threads,
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
