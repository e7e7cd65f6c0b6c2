import Foundation

/// Peak resident memory of a piece of work, measured by the kernel rather than estimated.
///
/// Linux keeps a process's high-water mark of resident memory (VmHWM in /proc/self/status) and
/// lets the process reset it to the current value by writing "5" to /proc/self/clear_refs. Reset,
/// run, read: the difference from the resident size before is the peak the work added. Elsewhere
/// (or if /proc is unavailable) the measurement is `nil`, never a made-up number.
public enum PeakMemory {
    /// Runs `work` and returns its result with the peak resident bytes it added (nil if unmeasurable).
    public static func measure<T>(_ work: () throws -> T) rethrows -> (result: T, peakBytes: Int?) {
        let baseline = resetHighWaterMark()
        let result = try work()
        guard let baseline, let peak = statusField("VmHWM") else { return (result, nil) }
        return (result, max(0, peak - baseline))
    }

    /// Resets the high-water mark; returns the resident size it was reset to.
    private static func resetHighWaterMark() -> Int? {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return nil }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return nil }
        return statusField("VmRSS")
    }

    /// A "kB" field of /proc/self/status, in bytes.
    private static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let digits = line.dropFirst(name.count + 1).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }
}
