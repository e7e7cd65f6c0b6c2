import Dispatch
import Foundation
import Gradients

/// Turns a trainer's events into lines on standard error: iteration progress at most about once
/// a second (and at the last iteration), every fault, rollback and resume as it happens.
public final class TrainingProgress {
    private let prefix: String
    private let interval: UInt64
    private var lastPrinted: UInt64 = 0
    private let quiet: Bool

    public init(prefix: String, quiet: Bool = false, intervalSeconds: Double = 1) {
        self.prefix = prefix
        self.quiet = quiet
        interval = UInt64(intervalSeconds * 1e9)
    }

    public func handle(_ event: TrainingEvent) {
        guard !quiet else { return }
        switch event {
        case let .iteration(record, total, _, _):
            let now = DispatchTime.now().uptimeNanoseconds
            guard record.iteration + 1 == total || now - lastPrinted >= interval else { return }
            lastPrinted = now
        case .checkpointSaved:
            return
        default:
            break
        }
        FileHandle.standardError.write(Data("\(prefix)\(event.message)\n".utf8))
    }
}
