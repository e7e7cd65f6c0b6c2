import Foundation

/// The most memory a run may be estimated to need.
public struct MemoryLimit {
    public let bytes: Double
    /// Where the limit comes from, for the error message.
    public let source: String

    /// The machine's physical memory, or the cgroup's limit (`memory.max`) when that is lower.
    public static var machine: MemoryLimit {
        let physical = Double(ProcessInfo.processInfo.physicalMemory)
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let limit = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit < physical {
            return MemoryLimit(bytes: limit, source: "the cgroup's memory limit")
        }
        return MemoryLimit(bytes: physical, source: "the machine's memory")
    }

    /// "8G", "512M", "64k", "1e9", "2000000000", with an optional "B"/"iB".
    public static func bytes(parsing text: String) -> Double? {
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

    /// Sets every stored property.
    public init(bytes: Double, source: String) {
        self.bytes = bytes
        self.source = source
    }
}

/// A rough upper estimate of what a run allocates, made from the options alone before anything
/// is allocated, so that sizes no machine holds are refused with the option to change instead of
/// an abort or the kernel's OOM killer (README "Reliability: limits, threads, interruption").
///
/// Terms are computed in `Double`, so products of huge sizes cannot overflow.
public struct MemoryEstimate {
    public struct Term {
        /// What is stored, in words.
        public let what: String
        /// The option that drives it, and its value.
        public let option: String, value: String
        public let bytes: Double

        /// Sets every stored property.
        public init(what: String, option: String, value: String, bytes: Double) {
            self.what = what
            self.option = option
            self.value = value
            self.bytes = bytes
        }
    }

    private(set) var terms: [Term] = []

    public var total: Double { terms.reduce(0) { $0 + $1.bytes } }

    public init() {}

    /// Adds `count` doubles (8 bytes each), or `bytes` directly.
    public mutating func add(_ what: String, option: String, value: some CustomStringConvertible, doubles count: Double) {
        terms.append(Term(what: what, option: option, value: value.description, bytes: 8 * count))
    }

    /// Throws when the total exceeds `limit`, naming the largest term's option and value;
    /// `remedy` ends the message (commands without `--max-memory` give their own).
    public func check(against limit: MemoryLimit, remedy: String = "make it smaller or raise --max-memory") throws(CommandLineError) {
        let total = total
        guard !(total <= limit.bytes) else { return }
        let largest = terms.max { !($0.bytes >= $1.bytes) } ?? Term(what: "?", option: "?", value: "?", bytes: total)
        throw .invalidValue(
            option: largest.option, value: largest.value,
            reason: "the run would need about \(Self.format(total)) of memory (\(largest.what): \(Self.format(largest.bytes))), more than \(Self.format(limit.bytes)) (\(limit.source)); \(remedy)")
    }

    /// "1.5 GB", in powers of 1024 like `--max-memory`.
    public static func format(_ bytes: Double) -> String {
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
