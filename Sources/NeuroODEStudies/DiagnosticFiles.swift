import Foundation
import Gradients

/// A command's result set (`compare`, `rober-fit`, `landscape`, `reversibility`, `drift`): CSV
/// tables, JSON summaries and SVG charts in one directory, written as one unit.
///
/// Files are staged in memory by ``write(_:to:)`` and written by ``commit()``: the old
/// `manifest.json` is removed first, then every file is replaced atomically (``AtomicFile``), and
/// last a new `manifest.json` names the run, its ``Provenance`` (version, command line, resolved
/// ``configuration``) and each file's size and FNV-1a checksum. A reader
/// that trusts only files listed in the manifest with matching checksums never mixes two runs: an
/// interrupted commit leaves no manifest, and files of an older run fail the checksum
/// (README "Reliability: limits, threads, interruption").
public struct DiagnosticFiles {
    public let directory: URL
    private var staged: [(name: String, data: Data)] = []
    private(set) var written: [String] = []
    /// The run's resolved settings, recorded in the manifest's provenance.
    public var configuration: [String: JSONValue] = [:]

    /// `manifest.json`.
    private struct Manifest: Encodable {
        struct File: Encodable {
            let name: String
            let bytes: Int
            let fnv1a64: String
        }

        let run: String
        let created: String
        let provenance: Provenance
        let files: [File]
    }

    /// The manifest's file name inside the directory.
    public static let manifestName = "manifest.json"

    public init(directory path: String) throws(CommandLineError) {
        directory = URL(fileURLWithPath: path, isDirectory: true)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw .cannotWrite(path: path, reason: "it exists and is not a directory")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    /// Stages `text` as `name` inside the directory; nothing is written before ``commit()``.
    public mutating func write(_ text: String, to name: String) throws(CommandLineError) {
        let path = directory.appendingPathComponent(name).path
        try OutputFile.check(path, option: "the output directory")
        staged.removeAll { $0.name == name }
        staged.append((name, Data(text.utf8)))
    }

    /// Writes the staged files and then the manifest; returns their paths (manifest last).
    @discardableResult
    public mutating func commit() throws(CommandLineError) -> [String] {
        let manifestPath = directory.appendingPathComponent(Self.manifestName).path
        try OutputFile.check(manifestPath, option: "the output directory")
        if FileManager.default.fileExists(atPath: manifestPath) {
            do {
                try FileManager.default.removeItem(atPath: manifestPath)
            } catch {
                throw .cannotWrite(path: manifestPath, reason: error.localizedDescription)
            }
        }
        var entries: [Manifest.File] = []
        for file in staged {
            let path = directory.appendingPathComponent(file.name).path
            do {
                try AtomicFile.write(file.data, to: path)
            } catch {
                throw .cannotWrite(path: error.path, reason: error.reason)
            }
            written.append(path)
            entries.append(Manifest.File(name: file.name, bytes: file.data.count, fnv1a64: AtomicFile.checksum(file.data)))
        }
        let manifest = Manifest(
            run: UUID().uuidString.lowercased(), created: ISO8601DateFormatter().string(from: Date()),
            provenance: .current(configuration: configuration), files: entries)
        try OutputFile.write(Provenance.json(manifest), to: manifestPath)
        written.append(manifestPath)
        staged = []
        return written
    }

    /// "wrote PATH" lines for standard output.
    public var summary: String {
        written.map { "wrote \($0)" }.joined(separator: "\n")
    }
}
