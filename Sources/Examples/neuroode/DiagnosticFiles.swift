import Foundation

/// Where the diagnostic commands (`landscape`, `reversibility`, `drift`) put their results: a
/// directory of CSV tables and SVG charts, created when missing; each command prints the paths.
struct DiagnosticFiles {
    let directory: URL
    private(set) var written: [String] = []

    init(directory path: String) throws(CommandLineError) {
        directory = URL(fileURLWithPath: path, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: path, reason: error.localizedDescription)
        }
    }

    /// Writes `text` to `name` inside the directory (atomically) and remembers the path.
    mutating func write(_ text: String, to name: String) throws(CommandLineError) {
        let url = directory.appendingPathComponent(name)
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
        written.append(url.path)
    }

    /// A CSV table: the header, then one row per entry, numbers in Swift's shortest round-trip
    /// form (a failed value is written as `nan`, and the command says so on standard error).
    static func csv(header: [String], rows: [[Double]]) -> String {
        var text = header.joined(separator: ",") + "\n"
        for row in rows { text += row.map { $0.isNaN ? "nan" : $0.description }.joined(separator: ",") + "\n" }
        return text
    }

    /// "wrote PATH" lines for standard output.
    var summary: String {
        written.map { "wrote \($0)" }.joined(separator: "\n")
    }
}
