import Foundation
@testable import Gradients

/// A job of `size` ranks as threads of one process, for tests of the distributed methods without
/// `mpirun`: the collectives go through shared slots and a barrier, with the semantics of MPI's
/// (every rank's buffer, concatenated in rank order).
final class ThreadedRanks: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var arrived = 0, generation = 0
    private var doubles: [[Double]], bytes: [[UInt8]]

    private init(size: Int) {
        self.size = size
        doubles = Array(repeating: [], count: size)
        bytes = Array(repeating: [], count: size)
    }

    /// Runs `body` once per rank, each on its own thread, and returns the results in rank order.
    static func run<T: Sendable>(ranks: Int, _ body: @escaping @Sendable (any Communicator) throws -> T) throws -> [T] {
        let job = ThreadedRanks(size: ranks)
        let results = Results<T>(count: ranks)
        let done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            let thread = Thread {
                results.store(rank, Result { try body(Rank(job: job, rank: rank)) })
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return try results.values.map { try $0!.get() }
    }

    fileprivate func barrier() {
        condition.lock()
        let mine = generation
        arrived += 1
        if arrived == size {
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == mine { condition.wait() }
        }
        condition.unlock()
    }

    fileprivate func allgather<Element>(_ local: [Element], rank: Int, slots: ReferenceWritableKeyPath<ThreadedRanks, [[Element]]>) -> [Element] {
        condition.lock()
        self[keyPath: slots][rank] = local
        condition.unlock()
        barrier()
        condition.lock()
        let gathered = self[keyPath: slots].flatMap { $0 }
        condition.unlock()
        barrier()  // nobody overwrites a slot before everyone has read it
        return gathered
    }

    private struct Rank: Communicator {
        let job: ThreadedRanks
        let rank: Int
        var size: Int { job.size }
        func allgather(_ local: [Double]) -> [Double] { job.allgather(local, rank: rank, slots: \.doubles) }
        func allgather(_ local: [UInt8]) -> [UInt8] { job.allgather(local, rank: rank, slots: \.bytes) }
        func barrier() { job.barrier() }
        func abort(code: Int32, message: String) -> Never { fatalError("rank \(rank) aborted (\(code)): \(message)") }
    }

    private final class Results<T>: @unchecked Sendable {
        private let lock = NSLock()
        private(set) var values: [Result<T, any Error>?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func store(_ index: Int, _ value: Result<T, any Error>) {
            lock.lock()
            values[index] = value
            lock.unlock()
        }
    }
}
