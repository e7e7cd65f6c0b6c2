import ArgumentParser
import Foundation
import NeuroODEStudies

/// libFuzzer target: arbitrary bytes as a `--config` file, through the one reader of config files
/// (``ConfigurationFile``), its arguments, and the pipeline and options parsing the executable
/// runs. The reader must return a value or throw ``CommandLineError``; a trap, a hang or an
/// untyped error is a finding. Built and run by run.sh.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigDecoder(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let file: ConfigurationFile
    do {
        file = try ConfigurationFile(data: data, path: "fuzz.json")
    } catch {
        return 0  // typed: CommandLineError
    }
    let arguments = file.arguments(repeating: RepeatedOptions.listOptions)
    if let coalesced = try? RepeatedOptions.coalesce(["morris-lecar"] + arguments) {
        _ = try? SimulateCommand.parse(coalesced)
    }
    _ = try? TrainingOptions.parse(arguments)
    return 0
}
