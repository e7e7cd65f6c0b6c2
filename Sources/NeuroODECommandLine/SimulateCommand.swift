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

    /// Neuron models with more membrane potentials than this are plotted as a spike raster.
    static let maximumVoltageTraces = 4

    @OptionGroup var configOption: ConfigOption

    func run() throws {
        let entry = try ModelCatalog.entry(named: model)
        try resources.applyThreads()
        let limit = try resources.memoryLimit()
        let assignments = try ArgumentList.assignments(parameters, option: "--param")
        var options = try modelOptions(for: entry)
        for assignment in assignments where entry.structuralParameters.contains(assignment.name) {
            options.structural[assignment.name] = assignment.value
        }
        if entry.network != nil { try Self.networkEstimate(options).check(against: limit) }
        let runner = try entry.makeRunner(options)
        let defaults = entry.defaults
        let settings = try integratorSettings(defaults: defaults)
        let endTime = endTime ?? defaults.endTime
        let format = try outputFormat()
        let plotPath = try plotFile()
        // Refuse a device, FIFO or directory before the solve, not after it.
        if let output {
            try OutputFile.check(output, option: "--output")
            if spikes != nil, format == .csv { try OutputFile.check(Self.spikesPath(for: output), option: "--output") }
        }
        if let plotPath { try OutputFile.check(plotPath, option: "--plot") }

        var spikeThreshold: Double?
        if let spikes {
            guard runner.hasSpikes else {
                throw CommandLineError.inapplicable(option: "--spikes", reason: "\(model) has no membrane potential")
            }
            guard spikes.isFinite else {
                throw CommandLineError.invalidValue(option: "--spikes", value: "\(spikes)", reason: "the threshold must be finite")
            }
            if format == .csv, output == nil {
                throw CommandLineError.inapplicable(
                    option: "--spikes",
                    reason: "with CSV the spike times go to FILE.spikes.csv beside --output FILE; give --output or use --format json")
            }
            spikeThreshold = spikes
        }
        // A raster needs spikes even when they are not written out.
        let wantsRaster = plotPath != nil && runner.voltageIndices.count > Self.maximumVoltageTraces
        if wantsRaster, spikeThreshold == nil, runner.hasSpikes {
            spikeThreshold = 0
        }

        let request = SimulationRequest(
            initialState: try initialState.map { text throws(CommandLineError) in try ArgumentList.numbers(text, option: "--y0") },
            parameterChanges: assignments.filter { !entry.structuralParameters.contains($0.name) },
            endTime: endTime,
            integrator: settings,
            output: try outputSchedule(defaults: defaults, endTime: endTime),
            spikeThreshold: spikeThreshold)

        try Self.trajectoryEstimate(request, dimension: runner.stateNames.count).check(against: limit)

        let clock = ContinuousClock()
        let start = clock.now
        let solution = try runner.run(request)
        let elapsed = clock.now - start
        let wallTime = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let spikeTimes = spikeThreshold == nil ? nil : runner.spikeTimes(in: solution)

        let trajectory = TrajectoryOutput(
            model: runner.modelName, integrator: settings.kind.rawValue, stateNames: runner.stateNames,
            solution: solution, spikeTimes: spikes == nil ? nil : spikeTimes, wallTime: wallTime)
        switch format {
        case .csv:
            try OutputFile.write(trajectory.csv(), to: output)
            if let output, let spikeTimes = trajectory.spikeTimes {
                try OutputFile.write(TrajectoryOutput.spikesCSV(spikeTimes), to: Self.spikesPath(for: output))
            }
        case .json:
            try OutputFile.write(trajectory.json(), to: output)
        }
        if let plotPath {
            let plot = SimulationPlot.make(
                solution: solution, runner: runner, style: defaults.plot, spikeTimes: spikeTimes,
                maximumVoltageTraces: Self.maximumVoltageTraces)
            try OutputFile.write(plot.svg(), to: plotPath)
        }
    }

    // MARK: Resolving options

    private func modelOptions(for entry: ModelEntry) throws(CommandLineError) -> ModelOptions {
        if let preset {
            guard !entry.presets.isEmpty else {
                throw .inapplicable(option: "--preset", reason: "\(entry.name) has no presets")
            }
            guard entry.presets.contains(preset) else {
                throw .unknownName(kind: "preset", name: preset, owner: entry.name, choices: entry.presets)
            }
        }
        guard let network = entry.network else {
            for (option, given) in [("--neurons", neurons != nil), ("--batch", batch != nil), ("--seed", seed != nil)]
            where given {
                throw .inapplicable(option: option, reason: "\(entry.name) is not a network model")
            }
            return ModelOptions(preset: preset, neurons: 1, batch: 1, seed: 0)
        }
        for (option, value) in [("--neurons", neurons), ("--batch", batch)] {
            if let value, value < 1 {
                throw .invalidValue(option: option, value: "\(value)", reason: "must be at least 1")
            }
        }
        return ModelOptions(
            preset: preset, neurons: neurons ?? network.neurons, batch: batch ?? network.batch,
            seed: seed ?? network.seed)
    }

    private func integratorSettings(defaults: SimulationDefaults) throws(CommandLineError) -> IntegratorSettings {
        var kind = defaults.integrator
        if let integrator {
            guard let chosen = IntegratorKind(rawValue: integrator) else {
                throw .unknownName(kind: "integrator", name: integrator, choices: IntegratorKind.allCases.map(\.rawValue))
            }
            kind = chosen
        }
        if let precision, precision != .f64, !kind.isFixedStep {
            throw .inapplicable(option: "--precision \(precision.rawValue)", reason: "\(kind.rawValue) computes in float64; float32 is a leapfrog option")
        }
        if kind.isFixedStep {
            for (option, given) in [("--rtol", rtol != nil), ("--atol", atol != nil), ("--max-steps", maxSteps != nil)]
            where given {
                throw .inapplicable(option: option, reason: "\(kind.rawValue) takes a fixed step (--dt)")
            }
        } else {
            if dt != nil {
                throw .inapplicable(option: "--dt", reason: "\(kind.rawValue) chooses its own steps (use --rtol/--atol)")
            }
            if let rtol, !(rtol.isFinite && rtol > 0) {
                throw .invalidValue(option: "--rtol", value: "\(rtol)", reason: "must be finite and positive")
            }
            if let atol, !(atol.isFinite && atol >= 0) {
                throw .invalidValue(option: "--atol", value: "\(atol)", reason: "must be finite and non-negative")
            }
            if let maxSteps, maxSteps < 1 {
                throw .invalidValue(option: "--max-steps", value: "\(maxSteps)", reason: "must be at least 1")
            }
        }
        return IntegratorSettings(
            kind: kind, stepSize: dt ?? defaults.stepSize,
            relativeTolerance: rtol ?? defaults.relativeTolerance,
            absoluteTolerance: atol ?? defaults.absoluteTolerance,
            maxSteps: maxSteps ?? defaults.maxSteps, precision: precision ?? .f64)
    }

    private func outputSchedule(defaults: SimulationDefaults, endTime: Double) throws(CommandLineError) -> OutputSchedule {
        guard let times else { return defaults.output.schedule(endTime: endTime) }
        return .times(try ArgumentList.numbers(times, option: "--times"))
    }

    private func outputFormat() throws(CommandLineError) -> TrajectoryFormat {
        if let format { return format }
        return output.map { URL(fileURLWithPath: $0).pathExtension.lowercased() == "json" } == true ? .json : .csv
    }

    private func plotFile() throws(CommandLineError) -> String? {
        guard let plot else { return nil }
        guard URL(fileURLWithPath: plot).pathExtension.lowercased() == "svg" else {
            throw .invalidValue(option: "--plot", value: plot, reason: "the plot is SVG: give a file name ending in .svg")
        }
        return plot
    }

    // MARK: Memory

    /// A network's weights (N × N recurrent, N × 50 input, with the copies the model keeps), its
    /// token input and the batch's state with the integrator's scratch.
    static func networkEstimate(_ options: ModelOptions) -> MemoryEstimate {
        let n = Double(options.neurons), b = Double(options.batch)
        var estimate = MemoryEstimate()
        estimate.add("the network's weights", option: "--neurons", value: options.neurons, doubles: 4 * n * n + 200 * n)
        estimate.add("the batch's input tokens", option: "--batch", value: options.batch, doubles: 100 * b)
        estimate.add("the batch's state and scratch", option: n > b ? "--neurons" : "--batch", value: n > b ? options.neurons : options.batch,
                     doubles: 40 * n * b)
        return estimate
    }

    /// The recorded trajectory: every output state as numbers (8 bytes) and as text (about 24).
    /// Every-step output of an adaptive integrator is bounded by its step budget.
    static func trajectoryEstimate(_ request: SimulationRequest, dimension: Int) -> MemoryEstimate {
        var states: Double
        switch request.output {
        case let .times(list): states = Double(list.count)
        case .finalState: states = 1
        case let .everyStep(stride):
            let steps = request.integrator.kind.isFixedStep
                ? request.endTime / request.integrator.stepSize : Double(request.integrator.maxSteps)
            states = (steps.isFinite ? max(0, steps) : 0) / Double(max(1, stride)) + 2
        }
        var estimate = MemoryEstimate()
        let option = request.integrator.kind.isFixedStep ? "--t-end" : "--max-steps"
        let value = request.integrator.kind.isFixedStep ? "\(request.endTime)" : "\(request.integrator.maxSteps)"
        estimate.add("the recorded trajectory (use --times to record fewer states)", option: option, value: value,
                     doubles: 4 * states * Double(dimension + 1))
        return estimate
    }

    // MARK: Writing

    /// `out/run.csv` → `out/run.spikes.csv`.
    static func spikesPath(for output: String) -> String {
        let url = URL(fileURLWithPath: output)
        let stem = url.pathExtension.isEmpty ? url : url.deletingPathExtension()
        return stem.path + ".spikes.csv"
    }
}

/// The file formats of a trajectory.
enum TrajectoryFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    case csv
    case json
}
