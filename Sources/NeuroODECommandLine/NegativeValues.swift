import NeuroODEStudies
/// Negative numbers as option values: `--seed -1`, `--max-steps -5`.
///
/// ArgumentParser reads a token that starts with `-` as an option, so `--max-steps -5` would be
/// reported as a missing value instead of the range error that names `-5`. Before parsing, a long
/// option followed by a token that parses as a number and starts with `-` is joined into
/// `--option=-5`, for every option at once; the option's own validation then judges the value.
/// A flag given such a token was a mistake either way, and ArgumentParser names it.
enum NegativeValues {
    static func join(_ arguments: [String]) -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument.hasPrefix("--"), argument.count > 2, !argument.contains("="), index + 1 < arguments.count,
               Self.isNegativeNumber(arguments[index + 1]) {
                result.append("\(argument)=\(arguments[index + 1])")
                index += 2
                continue
            }
            result.append(argument)
            index += 1
        }
        return result
    }

    /// `-5`, `-1e3`, `-0.5`, `-inf`, `-nan`: a leading minus and a number after it.
    static func isNegativeNumber(_ text: String) -> Bool {
        text.hasPrefix("-") && text.count > 1 && Double(text) != nil
    }
}
