import ArgumentParser
import Foundation
import NeuroODE
import NeuroODEStudies

/// How a bench command prints: a readable summary, or one JSON object for scripts
/// (Validation/bench/run_all.sh collects them).
enum BenchFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

/// One benchmark's result as the JSON object `--format json` prints: what ran, with which settings,
/// on how many threads, and the measured numbers (seconds, bytes, rates) by name.
struct BenchResult: Encodable {
    let tool = "neuroode"
    var benchmark: String
    var precision: Precision?
    var threads: Int
    var settings: [String: String]
    var measurements: [String: Double]

    /// Prints the object on one line, keys sorted.
    func printJSON() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(self), as: UTF8.self))
    }
}
