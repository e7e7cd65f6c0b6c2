import NeuroODEStudies
/// An option whose value may be left out: `--spikes` alone means `--spikes 0`.
///
/// ArgumentParser has no optional-value options, so the raw arguments are rewritten before
/// parsing: a bare occurrence that is not followed by a number becomes `--name=default`. A
/// following argument is taken as the value only when it parses as a number, so
/// `simulate --spikes morris-lecar` still reads `morris-lecar` as the model.
struct OptionalValueOption: Sendable {
    /// The subcommand the option belongs to; arguments before it are left alone.
    let subcommand: String
    let name: String
    let defaultValue: String

    static let spikes = OptionalValueOption(subcommand: "simulate", name: "--spikes", defaultValue: "0")

    func normalize(_ arguments: [String]) -> [String] {
        guard let start = arguments.firstIndex(of: subcommand) else { return arguments }
        var result = Array(arguments[...start])
        var index = start + 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument == name, !(index + 1 < arguments.count && Double(arguments[index + 1]) != nil) {
                result.append("\(name)=\(defaultValue)")
            } else {
                result.append(argument)
            }
            index += 1
        }
        return result
    }
}
