import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies
import Testing

/// The problem-shaping options as a Codable value, and their validation by the catalog's
/// factories, in-process.
@Suite("problem settings")
struct ProblemSettingsTests {
    /// The keys are the command-line names, and a round trip keeps every value.
    @Test func codableUnderCommandLineNames() throws {
        var settings = ProblemSettings()
        settings.testTrials = 12
        settings.tokenDuration = 20
        settings.precision = .f32
        settings.unscaled = true
        let data = try JSONEncoder().encode(settings)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["test-trials"] as? Int == 12 && object["token-ms"] as? Double == 20 && object["precision"] as? String == "f32")
        #expect(try JSONDecoder().decode(ProblemSettings.self, from: data) == settings)
    }

    /// An option a problem does not read, and a value outside its domain, are refused by name
    /// before anything is built.
    @Test func catalogRefusesByName() throws {
        var settings = ProblemSettings()
        settings.hidden = 10
        #expect(throws: CommandLineError.inapplicable(option: "--hidden", reason: "turn-off does not take it")) {
            try settings.rejectOptions(notReadBy: try TrainingCatalog.entry(named: "turn-off"))
        }
        settings = ProblemSettings()
        settings.horizon = -5
        #expect {
            _ = try TrainingCatalog.entry(named: "turn-off").make(settings, false)
        } throws: { error in
            guard case let .invalidValue(option, value, _) = error as? CommandLineError else { return false }
            return option == "--horizon" && value == "-5.0"
        }
        settings = ProblemSettings()
        settings.inputs = 1
        #expect {
            _ = try TrainingCatalog.entry(named: "oja").make(settings, false)
        } throws: { error in
            (error as? CommandLineError)?.description.contains("at least 2 inputs") == true
        }
    }

    /// A problem built in-process carries the small configuration's defaults and θ's names.
    @Test func turnOffRunnerHasTheLibraryDefaults() throws {
        var settings = ProblemSettings()
        settings.horizon = 100
        let runner = try TrainingCatalog.entry(named: "turn-off").make(settings, false)
        #expect(runner.parameterNames == ["I"])
        #expect(runner.defaults.iterations == TurnOffTraining.Configuration.small.iterations)
        #expect(runner.configurationJSON.contains("\"horizon\":100"))
    }
}
