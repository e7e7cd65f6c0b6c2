import NeuroODEStudies
/// Repeated options, in time linear in the number of arguments.
///
/// ArgumentParser takes time quadratic in the number of occurrences of an option (measured:
/// 2000 × `--t-end` 20 s, 4000 × `--param` 38 s in a debug build), so a long config list or a
/// script repeating an option could hang the command. Before parsing, every occurrence of the
/// list option `--param` is merged into one argument, the values separated by newlines
/// (``ArgumentList/assignments(_:option:)`` splits them again), and any other option given more
/// than ``maximumRepeats`` times is refused, naming it. ArgumentParser then sees a bounded number
/// of arguments whatever the input.
enum RepeatedOptions {
    /// The options that may be repeated to build a list.
    static let listOptions: Set<String> = ["--param"]
    /// How often any other option may appear (the last occurrence counts).
    static let maximumRepeats = 16

    static func coalesce(_ arguments: [String]) throws(CommandLineError) -> [String] {
        var result: [String] = []
        result.reserveCapacity(arguments.count)
        var lists: [String: (position: Int, values: [String])] = [:]
        var counts: [String: Int] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            guard argument.hasPrefix("--") else {
                result.append(argument)
                index += 1
                continue
            }
            let name = argument.split(separator: "=", maxSplits: 1).first.map(String.init) ?? argument
            if listOptions.contains(name) {
                let value: String
                if argument.count > name.count {
                    value = String(argument.dropFirst(name.count + 1))
                    index += 1
                } else if index + 1 < arguments.count {
                    value = arguments[index + 1]
                    index += 2
                } else {
                    result.append(argument)  // ArgumentParser reports the missing value
                    index += 1
                    continue
                }
                if lists[name] == nil {
                    lists[name] = (result.count, [])
                    result.append(name)
                }
                lists[name]!.values.append(value)
                continue
            }
            counts[name, default: 0] += 1
            if counts[name]! > maximumRepeats {
                throw .invalidValue(
                    option: name, value: argument, reason: "given more than \(maximumRepeats) times; give it once (the last one counts)")
            }
            result.append(argument)
            index += 1
        }
        for (name, list) in lists {
            result[list.position] = "\(name)=\(list.values.joined(separator: "\n"))"
        }
        return result
    }
}
