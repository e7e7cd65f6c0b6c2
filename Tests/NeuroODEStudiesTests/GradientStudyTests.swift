import Foundation
import Gradients
import NeuroODEStudies
import Testing

/// `gradient`'s driver in-process: the estimate against central finite differences of the same
/// task's loss, the JSON document's exact numbers, provenance and resolved settings, and bad
/// settings named by their option.
@Suite("gradient study")
struct GradientStudyTests {
    @Test func bpttGradientMatchesFiniteDifferencesAndTheJSONRecordsItExactly() throws {
        var study = GradientStudy(task: "turn-off")
        study.horizon = 50
        study.parameters = ["I=97"]
        let output = try study.run()
        // The reference: dL/dI by central differences of the loss the task reports, h = 1e-3.
        func loss(_ current: Double) throws -> Double {
            var probe = study
            probe.parameters = ["I=\(current)"]
            probe.method = "fd"
            return try probe.run().estimate.loss
        }
        let h = 1e-3
        let reference = (try loss(97 + h) - loss(97 - h)) / (2 * h)
        let gradient = try #require(output.estimate.gradient.first)
        #expect(abs(gradient - reference) <= 1e-4 * max(1, abs(reference)), "\(gradient) vs \(reference)")

        struct Document: Decodable {
            struct Provenance: Decodable { let version: String; let settings: GradientStudy }
            let task, method: String
            let loss: Double
            let parameterNames: [String]
            let gradient: [String: Double]
            let provenance: Provenance
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(output.json().utf8))
        #expect(document.task == "turn-off" && document.method == "bptt" && document.parameterNames == ["I"])
        #expect(document.loss == output.estimate.loss && document.gradient["I"] == gradient, "numbers read back bit for bit")
        #expect(document.provenance.version == NeuroODEVersion.string && document.provenance.settings.horizon == 50)
        #expect(document.provenance.settings.seed == 0 && document.provenance.settings.samples == nil, "bptt records no ES settings")
    }

    @Test func esSettingsAreResolvedIntoTheProvenance() throws {
        var study = GradientStudy(task: "turn-off")
        study.horizon = 20
        study.method = "es"
        study.samples = 4
        let resolved = try study.validate().resolved
        #expect(resolved.samples == 4 && resolved.sigma == 1.0 && resolved.variant == "mirrored" && resolved.seed == 0)
    }

    @Test func badSettingsNameTheirOption() {
        var study = GradientStudy(task: "turn-off")
        study.samples = 10
        #expect(throws: CommandLineError.inapplicable(option: "--samples", reason: "it is an option of es and hybrid, not bptt")) {
            try study.validate()
        }
        study = GradientStudy(task: "turn-off")
        study.method = "newton"
        #expect(throws: CommandLineError.self) { try study.validate() }
        study = GradientStudy(task: "turn-off")
        study.method = "fd"
        study.fdStep = -1
        #expect(throws: CommandLineError.invalidValue(option: "--fd-step", value: "-1.0", reason: "must be finite and positive")) {
            try study.validate()
        }
    }
}
