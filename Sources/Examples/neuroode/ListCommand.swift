import ArgumentParser

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

    func run() {
        switch topic {
        case .models:
            print(ModelCatalog.names.joined(separator: "\n"))
        case .integrators:
            print(IntegratorKind.allCases.map(\.rawValue).joined(separator: "\n"))
        case nil:
            print("Models:")
            for entry in ModelCatalog.entries {
                print("  \(entry.name): \(entry.summary)")
                if !entry.presets.isEmpty {
                    print("    presets: \(entry.presets.joined(separator: ", ")) (default \(entry.presets[0]))")
                }
                let d = entry.defaults
                let steps = d.integrator.isFixedStep ? "dt \(d.stepSize)" : "rtol \(d.relativeTolerance), atol \(d.absoluteTolerance)"
                print("    defaults: \(d.integrator.rawValue), \(steps), t-end \(d.endTime)")
                if let network = entry.network {
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
