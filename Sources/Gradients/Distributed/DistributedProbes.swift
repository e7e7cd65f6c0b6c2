import Dispatch

/// Forward evaluations of one iteration (ES samples, CMA-ES candidates) spread over the ranks of
/// a ``Communicator`` and, within a rank, over its threads; every rank gets every result.
///
/// Rank r evaluates its contiguous block of the `count` probes (``Communicator/block(of:)``), cut
/// again into contiguous runs for its `threads` workers; one ``BlockExchange`` then sends each
/// probe's loss and right-hand-side count (and a failure flag), 24 bytes a probe. Each probe's
/// value depends on its index alone, so the results, and everything computed from them, are the
/// same for any number of ranks and threads.
struct DistributedProbes {
    /// The probes of the iteration.
    let count: Int
    /// Worker threads of this rank (at least 1).
    let threads: Int
    /// The job's ranks.
    let communicator: any Communicator

    /// Runs `work` on this rank's workers, each with its contiguous run of probe indices and a
    /// function to store a probe's result, and returns every probe's result in index order: this
    /// rank's as computed, another rank's failure as ``TrainingError/failedOnRank(rank:reason:)``.
    func evaluate(
        _ work: @Sendable (_ probes: Range<Int>, _ store: (Int, Result<ObjectiveEvaluation, any Error>) -> Void) -> Void
    ) -> [Result<ObjectiveEvaluation, any Error>] {
        let exchange = BlockExchange(count: count, communicator: communicator)
        let block = exchange.block
        let local = ProbeResults(count: block.count)
        let workers = max(1, threads), chunk = (block.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let start = block.lowerBound + min(block.count, worker * chunk)
            let end = block.lowerBound + min(block.count, (worker + 1) * chunk)
            work(start..<end) { probe, result in local.store(probe - block.lowerBound, result) }
        }
        let packed = local.all.map { result in
            result.map { [$0.loss, Double($0.rightHandSideEvaluations)] }
        }
        return exchange.exchange(packed, width: 2).map { result in
            result.map { ObjectiveEvaluation(loss: $0[0], rightHandSideEvaluations: Int($0[1])) }
        }
    }
}
