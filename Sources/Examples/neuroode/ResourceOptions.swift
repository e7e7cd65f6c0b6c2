import ArgumentParser
import Foundation
import NeuroODE

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

/// The most memory a run may be estimated to need.
struct MemoryLimit {
    let bytes: Double
    /// Where the limit comes from, for the error message.
    let source: String

    /// The machine's physical memory, or the cgroup's limit (`memory.max`) when that is lower.
    static var machine: MemoryLimit {
        let physical = Double(ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let limit = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit < physical {
            return MemoryLimit(bytes: limit, source: "the cgroup's memory limit")
        }
        return MemoryLimit(bytes: physical, source: "the machine's memory")
    }

    /// "8G", "512M", "64k", "1e9", "2000000000", with an optional "B"/"iB".
    static func bytes(parsing text: String) -> Double? {
        var body = text.trimmingCharacters(in: .whitespaces).uppercased()
        if body.hasSuffix("IB") { body.removeLast(2) } else if body.hasSuffix("B") { body.removeLast() }
        let scales: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var scale = 1.0
        if let last = body.last, let factor = scales[last] {
            scale = factor
            body.removeLast()
        }
        guard let value = Double(body), value.isFinite, value >= 0 else { return nil }
        return value * scale
    }
}

/// A rough upper estimate of what a run allocates, made from the options alone before anything
/// is allocated, so that sizes no machine holds are refused with the option to change instead of
/// an abort or the kernel's OOM killer (Validation/RELIABILITY.md "Sizes").
///
/// Terms are computed in `Double`, so products of huge sizes cannot overflow.
struct MemoryEstimate {
    struct Term {
        /// What is stored, in words.
        let what: String
        /// The option that drives it, and its value.
        let option: String, value: String
        let bytes: Double
    }

    private(set) var terms: [Term] = []

    var total: Double { terms.reduce(0) { $0 + $1.bytes } }

    /// Adds `count` doubles (8 bytes each), or `bytes` directly.
    mutating func add(_ what: String, option: String, value: some CustomStringConvertible, doubles count: Double) {
        terms.append(Term(what: what, option: option, value: value.description, bytes: 8 * count))
    }

    /// Throws when the total exceeds `limit`, naming the largest term's option and value;
    /// `remedy` ends the message (commands without `--max-memory` give their own).
    func check(against limit: MemoryLimit, remedy: String = "make it smaller or raise --max-memory") throws(CommandLineError) {
        let total = total
        guard !(total <= limit.bytes) else { return }
        let largest = terms.max { !($0.bytes >= $1.bytes) } ?? Term(what: "?", option: "?", value: "?", bytes: total)
        throw .invalidValue(
            option: largest.option, value: largest.value,
            reason: "the run would need about \(Self.format(total)) of memory (\(largest.what): \(Self.format(largest.bytes))), more than \(Self.format(limit.bytes)) (\(limit.source)); \(remedy)")
    }

    /// "1.5 GB", in powers of 1024 like `--max-memory`.
    static func format(_ bytes: Double) -> String {
        guard bytes.isFinite else { return "more than any machine holds" }
        let units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"]
        var value = bytes, unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return "\(String(format: unit == 0 ? "%.0f" : "%.3g", value)) \(units[unit])"
    }
}
