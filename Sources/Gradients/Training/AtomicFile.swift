import Foundation

/// The one way files are written (checkpoints, results, trajectories; README "Reliability: limits, threads, interruption"): to a temporary name beside the target, flushed to disk, renamed into place (atomic on
/// POSIX file systems) and the directory entry flushed too, so a reader or a crash sees either the
/// old file or the whole new one, never a mixture.
///
/// Only a regular file or a new path is replaced: renaming over a device, a FIFO, a directory or a
/// symbolic link would replace the special file itself (`--output /dev/full` run as root would
/// leave a regular file in /dev), so such a target is refused before anything is written.
public enum AtomicFile {
    /// Why a path is not a place this module will write to, or `nil` when it is a regular file or
    /// does not exist yet.
    public static func refusal(for path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            return errno == ENOENT ? nil : String(cString: strerror(errno))
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "it is a directory"
        case S_IFLNK: return "it is a symbolic link (give the file it points to)"
        case S_IFIFO: return "it is a FIFO, not a regular file"
        case S_IFCHR, S_IFBLK: return "it is a device, not a regular file"
        default: return "it is not a regular file"
        }
    }

    /// Writes `data` to `path` atomically, creating missing directories. Returns nothing on
    /// success; on failure the target is untouched and the reason is returned in the error.
    ///
    /// In a job of several processes only rank 0 of ``ProcessGroup/world`` writes; the other ranks,
    /// which computed the same contents, return at once (README "Beyond one machine: MPI").
    public static func write(_ data: Data, to path: String) throws(AtomicFileError) {
        guard ProcessGroup.world.writesOutput else { return }
        if let refusal = refusal(for: path) { throw AtomicFileError(path: path, reason: refusal) }
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw AtomicFileError(path: directory, reason: error.localizedDescription)
        }
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw AtomicFileError(path: temporary, reason: String(cString: strerror(errno))) }
        var failure: String?
        data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw AtomicFileError(path: path, reason: failure)
        }
        // Checked again just before the rename: the path may have become a special file meanwhile.
        if let refusal = refusal(for: path) {
            unlink(temporary)
            throw AtomicFileError(path: path, reason: refusal)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw AtomicFileError(path: path, reason: reason)
        }
        let directoryDescriptor = open(directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    /// FNV-1a, 64 bit, as 16 hex digits: enough to catch truncation, corruption and files of two
    /// different runs side by side (not tampering).
    public static func checksum(_ data: Data) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A file that could not be written, and why.
public struct AtomicFileError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public var description: String { "cannot write '\(path)': \(reason)" }
}
