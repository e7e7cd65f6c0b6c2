import Dispatch
import NeuroODE

/// BPTT over a batch of independent trials, one ``ReverseSweep`` per part of the batch, the parts
/// shared among `threads` workers (worker w sweeps parts w, w + threads, …).
///
/// Each part (a ``TrialBatchedSystem``'s piece with its ``TrialSeparableLoss`` piece) has its own
/// forward map, trajectory store and θ̄, so the threads share nothing but read-only inputs. A
/// worker builds its part's map itself (`map`), so an adaptive scheme's recording solve, which
/// fixes the part's step grid, runs in parallel too, and only for the parts a rank sweeps. The
/// parts' losses, θ̄ and loss-parameter gradients are then added in part order, so the result
/// depends on the partition only, never on the number of threads. On a fixed grid it differs from
/// the whole-batch sweep only by the order in which the trials' contributions to θ̄ are summed; an
/// adaptive scheme controls each part's steps on that part's error alone.
///
/// Over the ranks of an MPI job (README "Beyond one machine: MPI") each rank sweeps a contiguous
/// block of the parts and one ``BlockExchange`` gives every rank every part's loss, θ̄ and costs
/// ((1 + system + loss parameters + 4 counters) doubles a part); every rank then adds them in part
/// order as above, so the gradient is bit-identical to one process's for any number of ranks.
struct TrialParallelSweep<Map: DiscreteForwardMap & SendableMetatype, Loss: TaskLoss> {
    /// The number of parts.
    let partCount: Int
    /// Builds part k's forward map (called once per part, on the worker that sweeps it).
    let map: (Int) throws -> Map
    /// The checkpoint interval of a part's sweep, from its map.
    let checkpointInterval: (Map) -> Int
    /// One loss per part, in part order.
    let losses: [Loss]
    let lossParameters: [Double]
    /// θ's length, the system parameters every part's θ̄ has.
    let parameterCount: Int
    /// Workers (at least 1); the result does not depend on it.
    let threads: Int
    /// The ranks that share the parts; the result does not depend on their number.
    let communicator: any Communicator

    func run() throws -> SweepOutcome {
        let clock = DispatchTime.now().uptimeNanoseconds
        let exchange = BlockExchange(count: partCount, communicator: communicator)
        let block = exchange.block
        let parts = Parts(count: block.count) { [self] local in
            let part = block.lowerBound + local
            let map = try self.map(part)
            return try ReverseSweep(
                map: map, loss: losses[part], lossParameters: lossParameters, checkpointInterval: checkpointInterval(map)
            ).run()
        }
        let count = block.count, workers = max(1, min(threads, count))
        Parallelism.useSingleThreadedBLAS()
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for part in stride(from: worker, to: count, by: workers) { parts.run(part) }
        }
        let systemCount = parameterCount, lossCount = lossParameters.count
        let outcomes = exchange.exchange(parts.outcomes.map { outcome in
            outcome!.map { Self.pack($0) }
        }, width: 1 + systemCount + lossCount + 4).map { result in
            result.map { Self.unpack($0, systemCount: systemCount) }
        }
        var total = try outcomes[0].get()
        for part in 1..<partCount {
            let outcome = try outcomes[part].get()
            total.loss += outcome.loss
            for i in total.systemGradient.indices { total.systemGradient[i] += outcome.systemGradient[i] }
            for i in total.lossGradient.indices { total.lossGradient[i] += outcome.lossGradient[i] }
            // Steps and products count whole-batch evaluations: every part's count on a fixed grid,
            // the largest part's where each part chose its own steps.
            total.report.rightHandSideEvaluations = max(total.report.rightHandSideEvaluations, outcome.report.rightHandSideEvaluations)
            total.report.vectorJacobianProducts = max(total.report.vectorJacobianProducts, outcome.report.vectorJacobianProducts)
            total.report.bytesStored += outcome.report.bytesStored
        }
        total.report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return total
    }

    /// A part's outcome as the numbers the exchange sends: loss, θ̄ of the system, θ̄ of the loss,
    /// then the report's counters.
    private static func pack(_ outcome: SweepOutcome) -> [Double] {
        let report = outcome.report
        return [outcome.loss] + outcome.systemGradient + outcome.lossGradient + [
            Double(report.rightHandSideEvaluations), Double(report.vectorJacobianProducts),
            Double(report.forwardSolves), Double(report.bytesStored),
        ]
    }

    /// The outcome ``pack(_:)`` sent (its wall time is not sent: the caller's own is reported).
    private static func unpack(_ values: [Double], systemCount: Int) -> SweepOutcome {
        let counters = values.count - 4
        var report = GradientReport()
        report.rightHandSideEvaluations = Int(values[counters])
        report.vectorJacobianProducts = Int(values[counters + 1])
        report.forwardSolves = Int(values[counters + 2])
        report.bytesStored = Int(values[counters + 3])
        return (values[0], Array(values[1..<(1 + systemCount)]), Array(values[(1 + systemCount)..<counters]), report)
    }
}

/// The parts' sweeps and their outcome slots, handed to the workers. Worker k runs only part k
/// (building its own map) and writes only slot k, and the slots are read after all workers have
/// joined, so sharing the box is safe although the maps are not `Sendable`.
private final class Parts: @unchecked Sendable {
    let sweep: (Int) throws -> SweepOutcome
    var outcomes: [Result<SweepOutcome, any Error>?]

    init(count: Int, sweep: @escaping (Int) throws -> SweepOutcome) {
        self.sweep = sweep
        outcomes = [Result<SweepOutcome, any Error>?](repeating: nil, count: count)
    }

    func run(_ part: Int) {
        let outcome = Result { try sweep(part) }
        outcomes.withUnsafeMutableBufferPointer { $0[part] = outcome }
    }
}
