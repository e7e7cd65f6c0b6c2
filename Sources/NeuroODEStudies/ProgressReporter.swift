import Foundation

/// Progress on standard error in steps of 10 %, from whichever worker finishes a job.
public final class ProgressReporter: @unchecked Sendable {
    private let label: String
    private var reported = 0
    private let lock = NSLock()

    public init(label: String) { self.label = label }

    public func update(_ done: Int, _ total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let tenth = done * 10 / max(1, total)
        guard tenth > reported else { return }
        reported = tenth
        FileHandle.standardError.write(Data("\(label): \(tenth * 10) % (\(done) of \(total) evaluations)\n".utf8))
    }
}
