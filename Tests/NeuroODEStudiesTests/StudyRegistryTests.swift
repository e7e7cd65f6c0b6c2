import Foundation
import NeuroODE
import NeuroODEStudies
import Testing

/// The registry from names to models, problems and tasks: built-in entries first, registered ones
/// visible to every catalog look-up (so to every command), duplicate names refused.
@Suite("study registry")
struct StudyRegistryTests {
    /// A model registered by a user's program is found by name and simulates like a built-in one;
    /// its trajectory matches the closed form of the rotation y₁ = cos ωt, y₂ = −sin ωt.
    @Test func registeredModelIsFoundAndRuns() throws {
        let name = "test-rotation"
        if !ModelCatalog.names.contains(name) {
            try StudyRegistry.shared.register(model: ModelEntry(
                name: name, summary: "rotation y1' = ω y2, y2' = −ω y1",
                defaults: SimulationDefaults(integrator: .dopri5, endTime: 1)
            ) { _ in SimulationRunner(Rotation()) })
        }
        #expect(Array(ModelCatalog.names.prefix(ModelCatalog.builtIn.count)) == ModelCatalog.builtIn.map(\.name))
        let entry = try ModelCatalog.entry(named: name)
        let runner = try entry.makeRunner(ModelOptions(neurons: 1, batch: 1, seed: 0))
        let settings = IntegratorSettings(kind: .dopri5, stepSize: 0.1, relativeTolerance: 1e-10, absoluteTolerance: 1e-12, maxSteps: 100_000)
        let request = SimulationRequest(parameterChanges: [("omega", 2)], endTime: 1.5, integrator: settings, output: .times([1.5]))
        let solution = try runner.run(request)
        let last = Array(solution.state(at: solution.times.count - 1))
        #expect(abs(last[0] - cos(3.0)) < 1e-8 && abs(last[1] + sin(3.0)) < 1e-8, "\(last)")
        #expect {
            try StudyRegistry.shared.register(model: entry)
        } throws: { error in
            (error as? CommandLineError)?.description.contains("'\(name)'") == true
        }
    }

    /// Unknown names list the registry's choices.
    @Test func unknownNamesListTheChoices() {
        #expect {
            _ = try TrainingCatalog.entry(named: "turnoff")
        } throws: { error in
            guard case let .unknownName(kind, name, _, choices) = error as? CommandLineError else { return false }
            return kind == "task" && name == "turnoff" && choices == TrainingCatalog.names && choices.contains("turn-off")
        }
        #expect(StudyRegistry.shared.integrators == ["leapfrog", "leapfrog-paper", "dopri5", "cvode-bdf", "cvode-adams"])
        #expect(StudyRegistry.shared.methods.contains("bptt") && StudyRegistry.shared.methods.contains("cmaes"))
    }
}
