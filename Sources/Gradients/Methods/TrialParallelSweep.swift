import Dispatch
import NeuroODE

/// BPTT over a batch of independent trials, one ``ReverseSweep`` per part of the batch, the parts
/// shared among `threads` workers (worker w sweeps parts w, w + threads, …).
///
/// Each part (a ``TrialBatchedSystem``'s piece with its ``TrialSeparableLoss`` piece) has its own
/// forward map, trajectory store and θ̄, so the threads share nothing but read-only inputs. The
/// parts' losses, θ̄ and loss-parameter gradients are then added in part order, so the result
/// depends on the partition only, never on the number of threads, and differs from the
/// whole-batch sweep only by the order in which the trials' contributions to θ̄ are summed.
struct TrialParallelSweep<Map: DiscreteForwardMap & SendableMetatype, Loss: TaskLoss> {
    /// One map and one loss per part, in part order.
    let maps: [Map]
    let losses: [Loss]
    let lossParameters: [Double]
    let checkpointInterval: Int
    /// Workers (at least 1); the result does not depend on it.
    let threads: Int

    func run() throws(ODEError) -> SweepOutcome {
        let clock = DispatchTime.now().uptimeNanoseconds
        let parts = Parts(sweeps: zip(maps, losses).map {
            ReverseSweep(map: $0, loss: $1, lossParameters: lossParameters, checkpointInterval: checkpointInterval)
        })
        let count = maps.count, workers = max(1, min(threads, count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for part in stride(from: worker, to: count, by: workers) { parts.run(part) }
        }
        var total = try parts.outcomes[0]!.get()
        for part in 1..<maps.count {
            let outcome = try parts.outcomes[part]!.get()
            total.loss += outcome.loss
            for i in total.systemGradient.indices { total.systemGradient[i] += outcome.systemGradient[i] }
            for i in total.lossGradient.indices { total.lossGradient[i] += outcome.lossGradient[i] }
            // Steps and products count whole-batch evaluations, which every part's count already is.
            total.report.bytesStored += outcome.report.bytesStored
        }
        total.report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return total
    }
}

/// The parts' sweeps and their outcome slots, handed to the workers. Worker k touches only
/// sweep k (its map's scratch) and slot k, and the slots are read after all workers have
/// joined, so sharing the box is safe although the maps are not `Sendable`.
private final class Parts<Map: DiscreteForwardMap, Loss: TaskLoss>: @unchecked Sendable {
    let sweeps: [ReverseSweep<Map, Loss>]
    var outcomes: [Result<SweepOutcome, ODEError>?]

    init(sweeps: [ReverseSweep<Map, Loss>]) {
        self.sweeps = sweeps
        outcomes = [Result<SweepOutcome, ODEError>?](repeating: nil, count: sweeps.count)
    }

    func run(_ part: Int) {
        let outcome = Result { () throws(ODEError) in try sweeps[part].run() }
        outcomes.withUnsafeMutableBufferPointer { $0[part] = outcome }
    }
}
