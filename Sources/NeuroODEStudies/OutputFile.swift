import Foundation
import Gradients

/// The command line's one writer of results: files through ``AtomicFile`` (only a regular file or
/// a new path is replaced, atomically) and standard output with its failures reported as errors
/// rather than traps (a full disk behind `> file`, a closed pipe).
public enum OutputFile {
    /// Throws when `path` exists and is not a regular file, so that a command refuses a device or a
    /// FIFO before it does its work rather than after.
    public static func check(_ path: String, option: String) throws(CommandLineError) {
        if let refusal = AtomicFile.refusal(for: path) {
            throw .invalidValue(option: option, value: path, reason: "refusing to write there: \(refusal)")
        }
    }

    /// Writes `text` to `path` atomically (creating missing directories).
    public static func write(_ text: String, to path: String) throws(CommandLineError) {
        do {
            try AtomicFile.write(Data(text.utf8), to: path)
        } catch {
            throw .cannotWrite(path: error.path, reason: error.reason)
        }
    }

    /// Writes `text` to standard output; a failed write is an error naming standard output.
    public static func standardOutput(_ text: String) throws(CommandLineError) {
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            throw .cannotWrite(path: "standard output", reason: error.localizedDescription)
        }
    }

    /// `path`, or standard output when it is nil.
    public static func write(_ text: String, to path: String?) throws(CommandLineError) {
        if let path { try write(text, to: path) } else { try standardOutput(text) }
    }
}
