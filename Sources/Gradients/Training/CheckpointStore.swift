import Foundation

/// Training checkpoints in one directory, written so that a crash or kill at any moment leaves a
/// usable one behind (Validation/RELIABILITY.md): each file is written by ``AtomicFile``. The
/// newest two are kept, plus the best; resuming takes the newest that reads back intact.
///
/// A file is the state as JSON followed by one line `checksum fnv1a64 <hex>` over those bytes, so
/// truncation and bit rot are detected rather than resumed from. Non-finite numbers (the loss of a
/// failed iteration) are written as the strings "nan", "inf", "-inf".
///
/// In a job of several processes only rank 0 of ``ProcessGroup/world`` saves and deletes; every
/// rank reads, so a job resumes with any number of ranks (README "Beyond one machine: MPI").
public struct CheckpointStore: Sendable {
    /// The directory the checkpoint files live in; created on the first save.
    public let directory: String

    /// A store in `directory`; nothing is touched on disk until the first save.
    public init(directory: String) {
        self.directory = directory
    }

    /// Creates the directory and proves that a file can be written in it, so that an unwritable
    /// place is reported before training starts rather than at the first checkpoint.
    public func prepare() throws(TrainerError) {
        let probe = (directory as NSString).appendingPathComponent(".write-probe-\(getpid())")
        try Self.writeAtomically(Data(), to: probe)
        unlink(probe)
    }

    /// The file for the state after `iteration` completed iterations.
    public func path(iteration: Int) -> String {
        (directory as NSString).appendingPathComponent("checkpoint-\(String(format: "%08d", iteration)).json")
    }

    /// Writes `state` as the checkpoint after `iteration` iterations, then deletes every other
    /// checkpoint but the newest two and those in `keeping`. Returns the file's path.
    @discardableResult
    public func save<State: Encodable>(_ state: State, iteration: Int, keeping: Set<Int> = []) throws(TrainerError) -> String {
        let target = path(iteration: iteration)
        guard ProcessGroup.world.writesOutput else { return target }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWriteCheckpoint(path: directory, reason: error.localizedDescription)
        }
        let payload: Data
        do {
            payload = try Self.encoder.encode(state)
        } catch {
            throw .cannotWriteCheckpoint(path: target, reason: "\(error)")
        }
        var contents = payload
        contents.append(Data("\nchecksum fnv1a64 \(Self.checksum(payload))\n".utf8))
        try Self.writeAtomically(contents, to: target)
        let newest = Set(listing().prefix(2).map(\.iteration))
        for entry in listing() where !newest.contains(entry.iteration) && !keeping.contains(entry.iteration) {
            try? FileManager.default.removeItem(atPath: entry.path)
        }
        return target
    }

    /// Deletes every checkpoint file of the directory, for a run that starts afresh where an older
    /// one left checkpoints (which would otherwise outrank the new run's on resume).
    public func removeAll() throws(TrainerError) {
        guard ProcessGroup.world.writesOutput else { return }
        for entry in listing() {
            guard unlink(entry.path) == 0 || errno == ENOENT else {
                throw .cannotWriteCheckpoint(path: entry.path, reason: String(cString: strerror(errno)))
            }
        }
    }

    /// The checkpoint files present, newest first.
    public func listing() -> [(iteration: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("checkpoint-"), name.hasSuffix(".json"),
                  let iteration = Int(name.dropFirst("checkpoint-".count).dropLast(".json".count)) else { return nil }
            return (iteration, (directory as NSString).appendingPathComponent(name))
        }
        .sorted { $0.0 > $1.0 }
    }

    /// Reads and verifies one checkpoint.
    public func load<State: Decodable>(_ type: State.Type, from path: String) throws(TrainerError) -> State {
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw .corruptCheckpoint(path: path, reason: "cannot be read")
        }
        let marker = Data("\nchecksum fnv1a64 ".utf8)
        guard let range = contents.range(of: marker, options: .backwards) else {
            throw .corruptCheckpoint(path: path, reason: "no checksum line (truncated?)")
        }
        let payload = contents[contents.startIndex..<range.lowerBound]
        let stored = String(decoding: contents[range.upperBound...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = Self.checksum(Data(payload))
        guard stored == actual else {
            throw .corruptCheckpoint(path: path, reason: "checksum \(stored) does not match the contents (\(actual))")
        }
        do {
            return try Self.decoder.decode(State.self, from: Data(payload))
        } catch {
            throw .corruptCheckpoint(path: path, reason: "does not decode: \(error)")
        }
    }

    // MARK: Encoding

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    static func checksum(_ data: Data) -> String { AtomicFile.checksum(data) }

    private static func writeAtomically(_ data: Data, to path: String) throws(TrainerError) {
        do {
            try AtomicFile.write(data, to: path)
        } catch {
            throw .cannotWriteCheckpoint(path: error.path, reason: error.reason)
        }
    }
}
