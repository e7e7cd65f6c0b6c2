import ArgumentParser
import Foundation
import NeuroODE
import NeuroODEStudies

/// `neuroode simulate MODEL`: one forward solve, written as CSV or JSON, optionally plotted.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate one model and write its trajectory as CSV or JSON.",
        discussion: """
            Models: \(ModelCatalog.names.joined(separator: ", ")). \
            Integrators: \(IntegratorKind.allCases.map(\.rawValue).joined(separator: ", ")). \
            Run 'neuroode list' for each model's presets and defaults. Time starts at 0 and is in ms \
            for the neuron models. Invalid input exits with status 1 or 64 and one line on standard error.
            """
    )

    @Argument(help: "The model to simulate (see 'neuroode list').")
    var model: String

    @Option(help: "A named parameter set of the model (default: the model's first preset).")
    var preset: String?

    @Option(
        name: .customLong("param"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("Set one parameter; repeatable. Applied after the preset.", valueName: "NAME=VALUE"))
    var parameters: [String] = []

    @Option(
        name: .customLong("y0"), parsing: .unconditional,
        help: ArgumentHelp("Initial state as a comma-separated list (default: the model's).", valueName: "list"))
    var initialState: String?

    @Option(help: ArgumentHelp("The integrator (default: the model's).", valueName: "name"))
    var integrator: String?

    @Option(parsing: .unconditional, help: "Step size of a fixed-step integrator.")
    var dt: Double?

    @Option(name: .customLong("t-end"), parsing: .unconditional, help: "End time; the simulation starts at 0.")
    var endTime: Double?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Output times, comma-separated and strictly increasing (default: every step, or the model's own log-spaced times).", valueName: "list"))
    var times: String?

    @Option(parsing: .unconditional, help: "Relative tolerance of an adaptive integrator.")
    var rtol: Double?

    @Option(parsing: .unconditional, help: "Absolute tolerance of an adaptive integrator.")
    var atol: Double?

    @Option(help: ArgumentHelp(
        "Arithmetic of the leapfrog: f64 (default) or f32 (morris-lecar, ml-network).", valueName: "f32|f64"))
    var precision: Precision?

    @Option(name: .customLong("max-steps"), help: "Step budget of an adaptive integrator.")
    var maxSteps: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Detect spikes as upward crossings of THRESHOLD (mV; '--spikes' alone means 0).", valueName: "threshold"))
    var spikes: Double?

    @Option(help: "Number of neurons (network models).")
    var neurons: Int?

    @Option(help: "Number of independent network copies simulated together (network models).")
    var batch: Int?

    @Option(help: "Random seed for the network's weights and input (network models).")
    var seed: UInt64?

    @Option(help: "Output format (default: json if --output ends in .json, else csv).")
    var format: TrajectoryFormat?

    @Option(help: ArgumentHelp("Write the trajectory to FILE instead of standard output.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Also draw the trajectory as an SVG plot.", valueName: "file.svg"))
    var plot: String?

    @OptionGroup var resources: ResourceOptions

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        try resources.applyThreads()
        var study = SimulationStudy(model: model)
        study.preset = preset
        study.parameters = parameters
        study.initialState = try initialState.map { text throws(CommandLineError) in try ArgumentList.numbers(text, option: "--y0") }
        study.integrator = integrator
        (study.dt, study.endTime, study.rtol, study.atol, study.maxSteps) = (dt, endTime, rtol, atol, maxSteps)
        study.times = try times.map { text throws(CommandLineError) in try ArgumentList.numbers(text, option: "--times") }
        study.precision = precision
        study.spikes = spikes
        (study.neurons, study.batch, study.seed) = (neurons, batch, seed)
        (study.format, study.output, study.plot) = (format, output, plot)
        try study.run(memoryLimit: try resources.memoryLimit())
    }
}

extension TrajectoryFormat: ExpressibleByArgument {}
