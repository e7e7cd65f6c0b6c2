import Foundation
import NeuroODEStudies
import Testing

/// `--config` files, decoded in-process: the arguments each value becomes, and the key named in
/// every refusal.
@Suite("configuration file")
struct ConfigurationFileTests {
    static func file(_ json: String) throws(CommandLineError) -> ConfigurationFile {
        try ConfigurationFile(data: Data(json.utf8), path: "c.json")
    }

    /// Keys in sorted order; numbers keep their exact text (integers stay integers, 1 and 0 are
    /// not booleans); `true` is the flag, `false` nothing; a list is one comma-separated value or,
    /// for a repeatable option, one argument per item.
    @Test func valuesBecomeArguments() throws {
        let file = try Self.file(#"{"samples": 1, "sigma": 0.5, "rtol": 1e-5, "ranks": true, "paper": false, "methods": ["bptt", "es"], "param": ["I=97", "C=2"], "seed": 18446744073709551615, "method": "es"}"#)
        #expect(file.arguments(repeating: ["--param"]) == [
            "--method=es", "--methods=bptt,es", "--param=I=97", "--param=C=2", "--ranks", "--rtol=1e-05", "--samples=1",
            "--seed=18446744073709551615", "--sigma=0.5",
        ])
        #expect(file.arguments().contains("--param=I=97,C=2"))
    }

    @Test(arguments: [
        (#"{"samples": null}"#, "key 'samples'", "not null"),
        (#"{"horizon": {"ms": 3}}"#, "key 'horizon'", "not an object"),
        (#"{"methods": ["es", 1]}"#, "key 'methods'", "mixing"),
        (#"{"param": [["I=9"]]}"#, "key 'param'", "list of lists"),
        (#"{"--seed": 1}"#, "key '--seed'", "without dashes"),
        (#"[1, 2]"#, "not a JSON object", "option names"),
        (#"{"seed": 1"#, "not a JSON object", "option names"),
    ])
    func refusalsNameTheKey(_ json: String, _ key: String, _ reason: String) {
        #expect {
            _ = try Self.file(json)
        } throws: { error in
            guard case let .invalidValue(option, value, message) = error as? CommandLineError else { return false }
            return option == "--config" && value == "c.json" && message.contains(key) && message.contains(reason)
        }
    }

    /// ArgumentParser's errors on the file's arguments are attributed to the key they concern.
    @Test func parsingErrorsNameTheKey() throws {
        let file = try Self.file(#"{"colour": "red", "iterations": "many"}"#)
        #expect(file.reason(forParsingError: "Unknown option '--colour'") == "unknown key 'colour' (not an option of this command; see --help)")
        #expect(file.reason(forParsingError: "The value 'many' is invalid for '--iterations <iterations>'")?.hasPrefix("key 'iterations': ") == true)
        #expect(file.reason(forParsingError: "Missing expected argument '<task>'") == nil)
    }
}
