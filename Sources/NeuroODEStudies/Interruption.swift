import Foundation
import Synchronization

/// The signal that asked the process to stop (0: none). An atomic, so the signal handler may set
/// it while the training loop reads it.
private let receivedSignal = Atomic<Int32>(0)

/// SIGINT and SIGTERM for the training commands (`compare`, `train`, `rober-fit`): the first
/// signal lets the current iteration finish, after which the trainer writes a checkpoint and the
/// command writes what is done and exits with 128 + the signal's number (130 for Ctrl-C, 143 for
/// SIGTERM); a second signal ends the process at once (README "Reliability: limits, threads, interruption").
public enum Interruption {
    /// Installs the handlers and unblocks the two signals (a parent may have started this process
    /// with them blocked, which would leave them pending until the run ends); call before
    /// training starts.
    public static func install() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        for number in [SIGINT, SIGTERM] {
            signal(number) { number in
                receivedSignal.store(number, ordering: .sequentiallyConsistent)
                signal(number, SIG_DFL)  // a second signal is not deferred
            }
        }
    }

    /// Whether a signal asked the process to stop.
    public static var requested: Bool { receivedSignal.load(ordering: .sequentiallyConsistent) != 0 }

    /// The error a command throws once it has saved what was done.
    public static func stopped(after what: String) -> CommandInterrupted {
        let number = receivedSignal.load(ordering: .sequentiallyConsistent)
        return CommandInterrupted(signal: number, saved: what)
    }
}

/// A command stopped by SIGINT or SIGTERM after saving its work; exits with 128 + the signal.
public struct CommandInterrupted: Error, CustomStringConvertible {
    public let signal: Int32
    /// What was saved and how to continue, in words.
    public let saved: String

    public var name: String { signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)" }
    public var exitStatus: Int32 { 128 + signal }
    public var description: String { "interrupted by \(name); \(saved)" }
}
