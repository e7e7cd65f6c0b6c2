import CMPI
import Foundation
import Gradients

/// The ``Communicator`` of a job started by `mpirun` (or `srun`), on Open MPI's MPI_COMM_WORLD
/// (README "Beyond one machine: MPI").
///
/// MPI is initialised only when the environment says a launcher started this process
/// (``launchedByMPI(environment:)``), so a plain run neither needs nor touches MPI. Calls are
/// made from one thread at a time (MPI_THREAD_SERIALIZED: the collectives run between the
/// iterations' parallel sections); MPI_Finalize runs at exit. Every failure of a collective ends
/// the job (MPI's default MPI_ERRORS_ARE_FATAL), which is how a dead rank or a lost node ends it.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int

    /// Initialises MPI; call once per process, and only under a launcher.
    private init() throws(MPIError) {
        var provided: Int32 = 0
        try Self.check(cmpi_init(&provided), "MPI_Init_thread")
        guard cmpi_serialized_supported(provided) != 0 else {
            throw MPIError(call: "MPI_Init_thread", reason: "the library grants thread level \(provided), below MPI_THREAD_SERIALIZED")
        }
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check(cmpi_rank(&rank), "MPI_Comm_rank")
        try Self.check(cmpi_size(&size), "MPI_Comm_size")
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// The job's communicator: MPI's when a launcher started this process, else ``SingleProcess``.
    public static func start(environment: [String: String] = ProcessInfo.processInfo.environment) throws(MPIError) -> any Communicator {
        launchedByMPI(environment: environment) ? try MPICommunicator() : SingleProcess()
    }

    /// Whether `environment` is that of a process an MPI launcher started: Open MPI's `mpirun`
    /// sets OMPI_COMM_WORLD_SIZE, PMIx launchers (`srun --mpi=pmix`) PMIX_RANK, PMI-1/2 ones PMI_SIZE.
    public static func launchedByMPI(environment: [String: String]) -> Bool {
        ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { environment[$0] != nil }
    }

    public func allgather(_ local: [Double]) -> [Double] { gathered(local, cmpi_allgather_double) }

    public func allgather(_ local: [UInt8]) -> [UInt8] { gathered(local, cmpi_allgather_uint8) }

    /// Every rank's `local`, through the shim's `allgather` for the element type.
    private func gathered<Element>(
        _ local: [Element], _ allgather: (UnsafePointer<Element>?, Int32, UnsafeMutablePointer<Element>?) -> Int32
    ) -> [Element] {
        guard let count = Int32(exactly: local.count) else {
            abort(code: 1, message: "rank \(rank): an allgather of \(local.count) elements exceeds MPI's Int32 count")
        }
        var status: Int32 = 0
        let received = [Element](unsafeUninitializedCapacity: local.count * size) { buffer, initialized in
            status = local.withUnsafeBufferPointer { allgather($0.baseAddress, count, buffer.baseAddress) }
            initialized = local.count * size
        }
        fatalIfFailed(status, "MPI_Allgather")
        return received
    }

    public func barrier() {
        fatalIfFailed(cmpi_barrier(), "MPI_Barrier")
    }

    public func abort(code: Int32, message: String) -> Never {
        FileHandle.standardError.write(Data("\(message)\n".utf8))
        _ = cmpi_abort(code)
        exit(code)  // MPI_Abort does not return; this only satisfies the type.
    }

    /// A collective that returned an error (only under a non-fatal error handler) ends the job too.
    private func fatalIfFailed(_ status: Int32, _ call: String) {
        if status != 0 { abort(code: 1, message: "rank \(rank): \(call) failed with MPI error \(status)") }
    }

    private static func check(_ status: Int32, _ call: String) throws(MPIError) {
        if status != 0 { throw MPIError(call: call, reason: "MPI error \(status)") }
    }
}

/// MPI could not be started.
public struct MPIError: Error, CustomStringConvertible {
    /// The MPI call that failed.
    public let call: String
    /// Why.
    public let reason: String

    public var description: String { "MPI could not be started: \(call): \(reason)" }
}
