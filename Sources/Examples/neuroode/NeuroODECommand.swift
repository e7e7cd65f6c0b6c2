import ArgumentParser

@main
struct NeuroODECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "neuroode",
        abstract: "Simulate and train ODE models, from biophysical neurons to neural ODEs.",
        subcommands: [Bench.self]
    )
}
