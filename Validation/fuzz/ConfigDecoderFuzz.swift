import ArgumentParser
import Foundation
import NeuroODEStudies

/// libFuzzer target: arbitrary bytes as a `--config` file, through every reader of config files
/// (``CommandConfig``, ``ConfigFileArguments``, ``ConfigurationFile`` merged into
/// ``TrainingOptions``). Each must return a value or throw ``CommandLineError``; a trap, a hang or
/// an untyped error is a finding. Built and run by run.sh.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let path = "fuzz.json"
    do {
        let entries = try CommandConfig.object(from: data, path: path)
        // simulate/gradient: entries become arguments, then the same pipeline the executable runs.
        if let arguments = try? ConfigFileArguments.arguments(from: entries, path: path) {
            _ = try? RepeatedOptions.coalesce(["simulate", "morris-lecar"] + arguments)
        }
        // compare/train/rober-fit: typed values merged into the options.
        let file = try ConfigurationFile(entries: entries, path: path, allowedKeys: TrainingOptions.keys + ["methods", "runs", "out"])
        var options = try TrainingOptions.parse([])
        try options.merge(file)
        _ = try file.list("methods")
        _ = try file.integer("runs")
        _ = try file.string("out")
    } catch is CommandLineError {
    } catch {
        fatalError("untyped error from the config readers: \(error)")
    }
    return 0
}
