import ArgumentParser
import Foundation
import NeuroODEStudies

/// The executable's subcommands under a root without `main` (libFuzzer brings its own).
struct FuzzRoot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neuroode",
        subcommands: Subcommands.all)
}

/// libFuzzer target: arbitrary bytes as a command line (arguments separated by NUL bytes), through
/// the path from the raw arguments to a parsed command (``ArgumentPipeline``, then ArgumentParser)
/// and, for the training commands, to their resolved options. A trap or a hang is a finding;
/// every rejection must be an error. Built and run by run.sh.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCommandLine(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    // Config files are fuzzed by ConfigDecoderFuzz; here a --config names no file.
    guard let prepared = try? ArgumentPipeline.prepare(arguments) else { return 0 }
    guard let command = try? FuzzRoot.parseAsRoot(prepared.arguments) else { return 0 }
    if let train = command as? TrainCommand {
        _ = try? train.options.training.memoryEstimate("evidence", methods: [.bptt, .es], runs: 1)
        _ = try? train.options.resources.memoryLimit()
    } else if let compare = command as? CompareCommand {
        _ = compare.options.training.memoryEstimate("spiral", methods: [.bptt], runs: compare.runs ?? 1)
    }
    return 0
}
