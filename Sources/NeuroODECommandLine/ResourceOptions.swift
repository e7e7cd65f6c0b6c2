import ArgumentParser
import Foundation
import NeuroODE
import NeuroODEStudies

/// `--max-memory` and `--threads`, shared by the commands that can grow large (README "Resource
/// limits").
struct ResourceOptions: ParsableArguments {
    @Option(
        name: .customLong("max-memory"),
        help: ArgumentHelp(
            "Refuse runs estimated to need more memory than this: bytes, or with a suffix K, M, G, T (powers of 1024) (default: the machine's or the cgroup's memory).",
            valueName: "size"))
    var maxMemory: String?

    @Option(
        parsing: .unconditional,
        help: "Worker threads of the parallel methods (default: NEUROODE_THREADS, else the CPUs this process may use). Results do not depend on it.")
    var threads: Int?

    /// Validates `--threads` (and `NEUROODE_THREADS`) and makes the count the process's default,
    /// which every parallel method reads (``Parallelism/defaultThreadCount``).
    func applyThreads() throws(CommandLineError) {
        if let threads {
            guard Parallelism.threadCount(parsing: "\(threads)") != nil else {
                throw .invalidValue(option: "--threads", value: "\(threads)", reason: "must be a whole number from 1 to 4096")
            }
            setenv(Parallelism.environmentVariable, "\(threads)", 1)
        } else if let text = ProcessInfo.processInfo.environment[Parallelism.environmentVariable],
                  Parallelism.threadCount(parsing: text) == nil {
            throw .invalidValue(option: Parallelism.environmentVariable, value: text, reason: "must be a whole number from 1 to 4096")
        }
    }

    /// The memory limit runs are checked against.
    func memoryLimit() throws(CommandLineError) -> MemoryLimit {
        guard let maxMemory else { return .machine }
        guard let bytes = MemoryLimit.bytes(parsing: maxMemory), bytes >= 1 else {
            throw .invalidValue(option: "--max-memory", value: maxMemory, reason: "expected a size such as 512M, 8G or 2000000000 (bytes)")
        }
        return MemoryLimit(bytes: bytes, source: "--max-memory")
    }
}
