import Foundation

/// Training checkpoints in one directory, written so that a crash or kill at any moment leaves a
/// usable one behind (README "Reliability: limits, threads, interruption"): each file is written by ``AtomicFile``. The
/// newest two are kept, plus the best; resuming takes the newest that reads back intact.
///
/// A file is one plain JSON object, `{"checksum":"fnv1a64 <hex>","state":{…}}`, the checksum taken
/// over the exact bytes of the `state` value as written, so truncation and bit rot are detected
/// rather than resumed from, while any JSON reader can open the file. Files of the earlier format —
/// the state's JSON followed by one line `checksum fnv1a64 <hex>` — still load, so runs
/// checkpointed before the change resume. Non-finite numbers (the loss of a failed iteration) are
/// written as the strings "nan", "inf", "-inf".
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
        try Self.writeAtomically(Self.document(payload), to: target)
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
        let (payload, stored) = try Self.payload(of: contents, path: path)
        let actual = Self.checksum(payload)
        guard stored == actual else {
            throw .corruptCheckpoint(path: path, reason: "checksum \(stored) does not match the contents (\(actual))")
        }
        do {
            return try Self.decoder.decode(State.self, from: payload)
        } catch {
            throw .corruptCheckpoint(path: path, reason: "does not decode: \(error)")
        }
    }

    // MARK: Format

    /// The start of a file in the plain-JSON format, up to the checksum's hex digits.
    private static let documentPrefix = Data(#"{"checksum":"fnv1a64 "#.utf8)
    /// What separates the checksum from the state.
    private static let stateKey = Data(#"","state":"#.utf8)

    /// `{"checksum":"fnv1a64 <hex>","state":<payload>}` and a newline: keys in sorted order, the
    /// payload's bytes unchanged so that the checksum can be verified on them.
    static func document(_ payload: Data) -> Data {
        var contents = documentPrefix
        contents.append(Data(checksum(payload).utf8))
        contents.append(stateKey)
        contents.append(payload)
        contents.append(Data("}\n".utf8))
        return contents
    }

    /// The state's bytes and the stored checksum, from a file of either format.
    private static func payload(of contents: Data, path: String) throws(TrainerError) -> (payload: Data, checksum: String) {
        if contents.starts(with: documentPrefix) {
            let afterPrefix = contents.index(contents.startIndex, offsetBy: documentPrefix.count)
            guard let key = contents.range(of: stateKey, in: afterPrefix..<contents.endIndex) else {
                throw .corruptCheckpoint(path: path, reason: "no state after the checksum (truncated?)")
            }
            var end = contents.endIndex
            while end > key.upperBound, contents[end - 1] == UInt8(ascii: "\n") { end -= 1 }
            guard end > key.upperBound, contents[end - 1] == UInt8(ascii: "}") else {
                throw .corruptCheckpoint(path: path, reason: "the JSON object is not closed (truncated?)")
            }
            let stored = String(decoding: contents[afterPrefix..<key.lowerBound], as: UTF8.self)
            return (Data(contents[key.upperBound..<(end - 1)]), stored)
        }
        // The earlier format: the state, then `\nchecksum fnv1a64 <hex>\n`.
        let marker = Data("\nchecksum fnv1a64 ".utf8)
        guard let range = contents.range(of: marker, options: .backwards) else {
            throw .corruptCheckpoint(path: path, reason: "no checksum (truncated?)")
        }
        let stored = String(decoding: contents[range.upperBound...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (Data(contents[contents.startIndex..<range.lowerBound]), stored)
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
