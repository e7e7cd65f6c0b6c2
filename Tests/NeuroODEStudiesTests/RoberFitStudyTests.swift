import Gradients
import NeuroODEStudies
import Testing

/// `rober-fit`'s settings in-process: defaults, the configuration they resolve to, and bad
/// settings named by their option.
@Suite("rober-fit study")
struct RoberFitStudyTests {
    @Test func settingsResolveToTheConfiguration() throws {
        var study = RoberFitStudy()
        study.iterations = 7
        study.sigma = 0.5
        let (kinds, scalings, configuration) = try study.validate()
        #expect(kinds == [.es, .adjointPartial] && scalings == [true, false])
        #expect(configuration.iterations == 7 && configuration.sigma == 0.5 && configuration.samples == RoberFitTraining.Configuration.small.samples)
        let problems = try study.problems()
        #expect(problems.map(\.configuration.scaled) == [true, false])
    }

    @Test func badSettingsNameTheirOption() {
        var study = RoberFitStudy()
        study.methods = ["bptt"]
        #expect(throws: CommandLineError.unknownName(kind: "method", name: "bptt", owner: "rober-fit", choices: ["es", "adjoint-partial", "fd"])) {
            try study.validate()
        }
        study = RoberFitStudy()
        study.scalings = ["on", "on"]
        #expect(throws: CommandLineError.invalidValue(option: "--scaling", value: "on", reason: "listed twice")) { try study.validate() }
        study = RoberFitStudy()
        study.methods = ["adjoint-partial"]
        study.samples = 4
        #expect(throws: CommandLineError.inapplicable(option: "--samples", reason: "no ES run is trained")) { try study.validate() }
        study = RoberFitStudy()
        study.iterations = 0
        #expect(throws: CommandLineError.invalidValue(option: "--iterations", value: "0", reason: "must be at least 1")) { try study.validate() }
    }
}
