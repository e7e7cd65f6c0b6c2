import ArgumentParser
import NeuroODEStudies

/// `neuroode list`: the models and integrators `simulate` accepts.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the models and integrators that 'simulate' accepts.",
        discussion: "With 'models' or 'integrators', prints only those names, one per line, for scripts."
    )

    enum Topic: String, ExpressibleByArgument, CaseIterable {
        case models
        case integrators
    }

    @Argument(help: "Print only the names of these.")
    var topic: Topic?

    /// Models with more parameters than this (networks) list only how many they have.
    static let maximumListedParameters = 24

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        switch topic {
        case .models:
            print(ModelCatalog.names.joined(separator: "\n"))
        case .integrators:
            print(IntegratorKind.allCases.map(\.rawValue).joined(separator: "\n"))
        case nil:
            print("Models:")
            for entry in ModelCatalog.entries {
                print("  \(entry.name): \(entry.summary)")
                let network = entry.network
                let runner = try entry.makeRunner(ModelOptions(
                    preset: nil, neurons: network?.neurons ?? 1, batch: network?.batch ?? 1, seed: network?.seed ?? 0))
                let names = runner.parameterNames
                print("    state: \(runner.stateNames.count <= Self.maximumListedParameters ? runner.stateNames.joined(separator: ", ") : "\(runner.stateNames.count) variables")")
                print("    parameters: \(names.count <= Self.maximumListedParameters ? names.joined(separator: " ") : "\(names.count)")")
                if !entry.presets.isEmpty {
                    print("    presets: \(entry.presets.joined(separator: ", ")) (default \(entry.presets[0]))")
                }
                let d = entry.defaults
                let steps = d.integrator.isFixedStep ? "dt \(d.stepSize)" : "rtol \(d.relativeTolerance), atol \(d.absoluteTolerance)"
                print("    defaults: \(d.integrator.rawValue), \(steps), t-end \(d.endTime)")
                if let network {
                    print("    network: \(network.neurons) neurons, batch \(network.batch), seed \(network.seed)")
                }
            }
            print("Integrators:")
            for kind in IntegratorKind.allCases {
                print("  \(kind.rawValue): \(kind.summary)")
            }
        }
    }
}
