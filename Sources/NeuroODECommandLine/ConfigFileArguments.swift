import ArgumentParser
import NeuroODEStudies

/// `--config FILE.json`, for every command: the file (read by the library's
/// ``ConfigurationFile``) becomes command-line arguments placed right after the command's name,
/// before the ones typed, so the command parses file and flags by one path and a typed flag wins.
enum ConfigFileArguments {
    /// `arguments` with `--config FILE` (or `--config=FILE`) after the command's name replaced by
    /// the file's entries; also returns the file, for error messages.
    static func expand(_ arguments: [String]) throws(CommandLineError) -> (arguments: [String], file: ConfigurationFile?) {
        // The command's name: the longest run of leading subcommand names (`bench es`).
        var end = 0
        var commands = Subcommands.all
        while end < arguments.count, let command = commands.first(where: { $0._commandName == arguments[end] }) {
            commands = command.configuration.subcommands
            end += 1
        }
        guard end > 0 else { return (arguments, nil) }
        var rest = Array(arguments[end...])
        guard let position = rest.firstIndex(where: { $0 == "--config" || $0.hasPrefix("--config=") }) else {
            return (arguments, nil)
        }
        let path: String
        if rest[position] == "--config" {
            guard position + 1 < rest.count else {
                throw .invalidValue(option: "--config", value: "", reason: "expects a JSON file")
            }
            path = rest[position + 1]
            rest.removeSubrange(position...(position + 1))
        } else {
            path = String(rest[position].dropFirst("--config=".count))
            rest.remove(at: position)
        }
        let file = try ConfigurationFile(path: path)
        return (Array(arguments[..<end]) + file.arguments(repeating: RepeatedOptions.listOptions) + rest, file)
    }
}

/// `--config`, in every command's `--help`. The value never reaches the command:
/// ``ConfigFileArguments`` has already replaced it by the file's options.
struct ConfigOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Read options from a JSON object keyed by the long option names without dashes (lists as arrays); options typed on the command line win.",
        valueName: "file.json"))
    var config: String?
}
