import Foundation
import Synchronization

/// The processes of one job and the few collective operations the distributed methods need
/// (README "Beyond one machine: MPI").
///
/// Ranks run the same program on the same data; they split the independent work of an iteration
/// (ES samples, CMA-ES candidates, BPTT's batch parts) into contiguous blocks
/// (``Communicator/block(of:)``), exchange what each computed with one `allgather` of
/// fixed-size buffers, and then every rank reduces the same gathered numbers in the same order.
/// So a result never depends on how many ranks computed it (README "Reliability: limits,
/// threads, interruption"), and θ, identical on every rank from the start, never has to be broadcast.
///
/// Every rank must call the collectives in the same order with buffers of the same length. A
/// failure inside a collective (a rank that died, a lost node) ends the whole job: MPI's semantics.
public protocol Communicator: Sendable {
    /// This process's index, 0 ..< ``size``.
    var rank: Int { get }
    /// The number of processes in the job.
    var size: Int { get }
    /// Every rank's `local` buffer, concatenated in rank order. All ranks pass the same count.
    func allgather(_ local: [Double]) -> [Double]
    /// Every rank's `local` bytes, concatenated in rank order. All ranks pass the same count.
    func allgather(_ local: [UInt8]) -> [UInt8]
    /// Returns once every rank has called it.
    func barrier()
    /// Ends every process of the job with exit status `code`, after `message` on standard error.
    func abort(code: Int32, message: String) -> Never
}

extension Communicator {
    /// The element-wise sum of every rank's `local`, added in rank order (gathered first, so the
    /// rounding is the same for any number of ranks that holds the same terms: bit-identical on
    /// every rank and for every run with the same R).
    public func allreduceSum(_ local: [Double]) -> [Double] {
        let count = local.count
        let gathered = allgather(local)
        var sum = Array(gathered[0..<count])
        for rank in 1..<size {
            let offset = rank * count
            for i in 0..<count { sum[i] += gathered[offset + i] }
        }
        return sum
    }

    /// The items of `count` this rank computes: a contiguous block, blocks in rank order, their
    /// sizes differing by at most one (the first `count mod size` ranks take one more).
    public func block(of count: Int) -> Range<Int> {
        ProcessGroup.block(of: count, rank: rank, size: size)
    }

    /// Whether this rank writes the job's files, progress and checkpoints: rank 0 alone.
    public var writesOutput: Bool { rank == 0 }
}

/// One process: rank 0 of 1; the collectives return the local buffer. The default everywhere.
public struct SingleProcess: Communicator {
    /// The communicator of a job of one process.
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allgather(_ local: [Double]) -> [Double] { local }
    public func allgather(_ local: [UInt8]) -> [UInt8] { local }
    public func barrier() {}
    public func abort(code: Int32, message: String) -> Never {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        exit(code)
    }
}

/// The communicator of this process's job, which the distributed methods (``EvolutionStrategy``,
/// ``HybridEvolutionStrategy``, ``BackpropagationThroughTime``, ``CMAES``) take by default and
/// whose rank gates the library's writes (``AtomicFile``, ``CheckpointStore``).
///
/// ``SingleProcess`` unless an executable installs another once at start-up, before it builds any
/// method (the `neuroode` command line installs MPI's when `mpirun` started it). A library
/// user may instead pass a communicator to each method.
public enum ProcessGroup {
    private static let current = Mutex<any Communicator>(SingleProcess())

    /// The job's communicator.
    public static var world: any Communicator {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    /// The block of items of `count` that `rank` of `size` ranks computes (``Communicator/block(of:)``).
    public static func block(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }
}

/// A gradient method that may share its work among the ranks of its ``Communicator``: every rank
/// must call it, in the same order, from one thread at a time.
protocol SharesWorkAmongRanks {
    /// The ranks it shares its work with.
    var communicator: any Communicator { get }
}

