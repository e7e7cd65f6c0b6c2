import CSundials
import Foundation

/// How many threads the parallel methods use by default (README "Threads").
///
/// `NEUROODE_THREADS` wins when it holds a whole number ≥ 1 (the command line's `--threads` sets
/// it). Otherwise the count is what this process may actually run on: the CPUs in its affinity
/// mask (`sched_getaffinity`, so `taskset -c 0` means one thread), further limited by a cgroup v2
/// CPU quota (`cpu.max`, rounded up), never below 1. `ProcessInfo.activeProcessorCount` ignores
/// both and would oversubscribe a pinned or throttled process.
///
/// Results never depend on this number: every parallel method partitions its work in a fixed way
/// and adds the parts in a fixed order (README "Reliability: limits, threads, interruption").
public enum Parallelism {
    /// Keeps OpenBLAS on the calling thread (once per process). NeuroODE spreads its own work (a
    /// batch's parts, ES samples) over the cores; BLAS threads of its own inside each part's small
    /// products would only contend with them.
    public static func useSingleThreadedBLAS() { _ = singleThreadedBLAS }

    private static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// The environment variable that fixes the thread count.
    public static let environmentVariable = "NEUROODE_THREADS"

    /// The default thread count, re-read on every call (the variable may be set at start-up).
    public static var defaultThreadCount: Int {
        if let text = ProcessInfo.processInfo.environment[environmentVariable], let count = threadCount(parsing: text) {
            return count
        }
        return availableProcessors
    }

    /// `text` as a thread count (a whole number from 1 to 4096), or nil.
    public static func threadCount(parsing text: String) -> Int? {
        guard let count = Int(text.trimmingCharacters(in: .whitespaces)), (1...4096).contains(count) else { return nil }
        return count
    }

    /// The CPUs of the affinity mask, capped by the cgroup quota.
    public static var availableProcessors: Int {
        var count = affinityCount ?? Parallelism.defaultThreadCount
        if let quota = cgroupQuota { count = min(count, quota) }
        return max(1, count)
    }

    /// The number of CPUs in this process's affinity mask, or nil where it cannot be read.
    ///
    /// glibc declares `sched_getaffinity` only under `_GNU_SOURCE`, which Swift's Glibc module is
    /// not built with, so the symbol is looked up at run time.
    static var affinityCount: Int? {
        #if os(Linux)
        typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sched_getaffinity") else { return nil }
        let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
        var mask = [UInt64](repeating: 0, count: 16)  // 1024 CPUs, glibc's cpu_set_t
        let status = mask.withUnsafeMutableBytes { getAffinity(0, $0.count, $0.baseAddress!) }
        guard status == 0 else { return nil }
        let count = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        return count > 0 ? count : nil
        #else
        return nil
        #endif
    }

    /// ⌈quota / period⌉ from cgroup v2's `cpu.max` ("max 100000" means no quota), or nil.
    static var cgroupQuota: Int? {
        guard let text = try? String(contentsOfFile: "/sys/fs/cgroup/cpu.max", encoding: .utf8) else { return nil }
        return quota(fromCPUMax: text)
    }

    /// Parses a `cpu.max` line "QUOTA PERIOD".
    static func quota(fromCPUMax text: String) -> Int? {
        let fields = text.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let quota = Double(fields[0]), let period = Double(fields[1]), quota > 0, period > 0 else { return nil }
        return max(1, Int((quota / period).rounded(.up)))
    }
}
