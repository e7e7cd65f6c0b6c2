import Foundation
import NeuroODE

/// `simulate`: one forward solve of a catalog model, written as CSV or JSON and optionally
/// plotted (README "Outputs").
///
/// Every field left nil takes the model's default; ``validate(memoryLimit:)`` resolves them,
/// checks every option against the model and the integrator, and checks the memory the run
/// would take, all before the solve. The JSON document and, for CSV to a file, the sidecar
/// `FILE.provenance.json` record the ``Provenance`` with the resolved settings.
public struct SimulationStudy: Codable, Equatable, Sendable {
    public var model: String
    /// A named parameter set of the model (nil: its first preset).
    public var preset: String?
    /// `NAME=VALUE` parameter changes, applied after the preset.
    public var parameters: [String] = []
    public var initialState: [Double]?
    /// An ``IntegratorKind`` name.
    public var integrator: String?
    /// Step size of a fixed-step integrator (the model's time unit: ms for the neurons).
    public var dt: Double?
    /// End time; the simulation starts at 0.
    public var endTime: Double?
    /// Strictly increasing output times (nil: every step, or the model's own times).
    public var times: [Double]?
    public var rtol: Double?
    public var atol: Double?
    public var precision: Precision?
    public var maxSteps: Int?
    /// Threshold (mV) of the upward crossings reported as spikes.
    public var spikes: Double?
    public var neurons: Int?
    public var batch: Int?
    public var seed: UInt64?
    public var format: TrajectoryFormat?
    /// The trajectory's file (nil: standard output).
    public var output: String?
    /// An SVG file for the plot.
    public var plot: String?

    /// Neuron models with more membrane potentials than this are plotted as a spike raster.
    public static let maximumVoltageTraces = 4

    public init(model: String) {
        self.model = model
    }

    /// A checked run: the model built, the request resolved, the outputs chosen.
    public struct Plan {
        public let runner: SimulationRunner
        public let defaults: SimulationDefaults
        public let request: SimulationRequest
        public let format: TrajectoryFormat
        /// The settings with every default filled in, as recorded in the provenance.
        public let resolved: SimulationStudy
    }

    /// Resolves and checks every setting, and the memory against `memoryLimit` (the machine's
    /// limit by default), before anything is solved; the error names the option at fault.
    public func validate(memoryLimit: MemoryLimit = .machine) throws -> Plan {
        let entry = try ModelCatalog.entry(named: model)
        let assignments = try ArgumentList.assignments(parameters, option: "--param")
        var options = try modelOptions(for: entry)
        for assignment in assignments where entry.structuralParameters.contains(assignment.name) {
            options.structural[assignment.name] = assignment.value
        }
        if entry.network != nil { try Self.networkEstimate(options).check(against: memoryLimit) }
        let runner = try entry.makeRunner(options)
        let defaults = entry.defaults
        let settings = try integratorSettings(defaults: defaults)
        let endTime = endTime ?? defaults.endTime
        let format = format ?? (output.map { URL(fileURLWithPath: $0).pathExtension.lowercased() == "json" } == true ? .json : .csv)
        if let plot, URL(fileURLWithPath: plot).pathExtension.lowercased() != "svg" {
            throw CommandLineError.invalidValue(option: "--plot", value: plot, reason: "the plot is SVG: give a file name ending in .svg")
        }
        // Refuse a device, FIFO or directory before the solve, not after it.
        if let output {
            try OutputFile.check(output, option: "--output")
            if format == .csv {
                try OutputFile.check(Provenance.sidecarPath(for: output), option: "--output")
                if spikes != nil { try OutputFile.check(Self.spikesPath(for: output), option: "--output") }
            }
        }
        if let plot { try OutputFile.check(plot, option: "--plot") }

        var spikeThreshold: Double?
        if let spikes {
            guard runner.hasSpikes else { throw CommandLineError.inapplicable(option: "--spikes", reason: "\(model) has no membrane potential") }
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
        if plot != nil, runner.voltageIndices.count > Self.maximumVoltageTraces, spikeThreshold == nil, runner.hasSpikes {
            spikeThreshold = 0
        }
        let request = SimulationRequest(
            initialState: initialState, parameterChanges: assignments.filter { !entry.structuralParameters.contains($0.name) },
            endTime: endTime, integrator: settings,
            output: times.map(OutputSchedule.times) ?? defaults.output.schedule(endTime: endTime), spikeThreshold: spikeThreshold)
        try Self.trajectoryEstimate(request, dimension: runner.stateNames.count).check(against: memoryLimit)

        var resolved = self
        resolved.preset = entry.presets.isEmpty ? nil : (preset ?? entry.presets.first)
        resolved.integrator = settings.kind.rawValue
        resolved.endTime = endTime
        if settings.kind.isFixedStep {
            resolved.dt = settings.stepSize
            resolved.precision = settings.precision
        } else {
            (resolved.rtol, resolved.atol, resolved.maxSteps) = (settings.relativeTolerance, settings.absoluteTolerance, settings.maxSteps)
        }
        if entry.network != nil { (resolved.neurons, resolved.batch, resolved.seed) = (options.neurons, options.batch, options.seed) }
        resolved.format = format
        return Plan(runner: runner, defaults: defaults, request: request, format: format, resolved: resolved)
    }

    /// Validates, solves and writes the trajectory (to ``output`` or standard output), the spike
    /// times, the provenance sidecar and the plot.
    public func run(memoryLimit: MemoryLimit = .machine) throws {
        let plan = try validate(memoryLimit: memoryLimit)
        let clock = ContinuousClock()
        let start = clock.now
        let solution = try plan.runner.run(plan.request)
        let elapsed = clock.now - start
        let wallTime = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let spikeTimes = plan.request.spikeThreshold == nil ? nil : plan.runner.spikeTimes(in: solution)
        let provenance = Provenance.current(settings: plan.resolved)
        let trajectory = TrajectoryOutput(
            model: plan.runner.modelName, integrator: plan.request.integrator.kind.rawValue, stateNames: plan.runner.stateNames,
            solution: solution, spikeTimes: spikes == nil ? nil : spikeTimes, wallTime: wallTime)
        switch plan.format {
        case .csv:
            try OutputFile.write(trajectory.csv(), to: output)
            if let output {
                try OutputFile.write(Provenance.json(provenance), to: Provenance.sidecarPath(for: output))
                if let spikeTimes = trajectory.spikeTimes {
                    try OutputFile.write(TrajectoryOutput.spikesCSV(spikeTimes), to: Self.spikesPath(for: output))
                }
            }
        case .json:
            try OutputFile.write(trajectory.json(provenance: provenance), to: output)
        }
        if let plot {
            let chart = SimulationPlot.make(
                solution: solution, runner: plan.runner, style: plan.defaults.plot, spikeTimes: spikeTimes,
                maximumVoltageTraces: Self.maximumVoltageTraces)
            try OutputFile.write(chart.svg(), to: plot)
        }
    }

    // MARK: Resolving

    private func modelOptions(for entry: ModelEntry) throws(CommandLineError) -> ModelOptions {
        if let preset {
            guard !entry.presets.isEmpty else { throw .inapplicable(option: "--preset", reason: "\(entry.name) has no presets") }
            guard entry.presets.contains(preset) else {
                throw .unknownName(kind: "preset", name: preset, owner: entry.name, choices: entry.presets)
            }
        }
        guard let network = entry.network else {
            for (option, given) in [("--neurons", neurons != nil), ("--batch", batch != nil), ("--seed", seed != nil)] where given {
                throw .inapplicable(option: option, reason: "\(entry.name) is not a network model")
            }
            return ModelOptions(preset: preset, neurons: 1, batch: 1, seed: 0)
        }
        for (option, value) in [("--neurons", neurons), ("--batch", batch)] {
            if let value, value < 1 { throw .invalidValue(option: option, value: "\(value)", reason: "must be at least 1") }
        }
        return ModelOptions(preset: preset, neurons: neurons ?? network.neurons, batch: batch ?? network.batch, seed: seed ?? network.seed)
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
            for (option, given) in [("--rtol", rtol != nil), ("--atol", atol != nil), ("--max-steps", maxSteps != nil)] where given {
                throw .inapplicable(option: option, reason: "\(kind.rawValue) takes a fixed step (--dt)")
            }
        } else {
            if dt != nil { throw .inapplicable(option: "--dt", reason: "\(kind.rawValue) chooses its own steps (use --rtol/--atol)") }
            if let rtol, !(rtol.isFinite && rtol > 0) {
                throw .invalidValue(option: "--rtol", value: "\(rtol)", reason: "must be finite and positive")
            }
            if let atol, !(atol.isFinite && atol >= 0) {
                throw .invalidValue(option: "--atol", value: "\(atol)", reason: "must be finite and non-negative")
            }
            if let maxSteps, maxSteps < 1 { throw .invalidValue(option: "--max-steps", value: "\(maxSteps)", reason: "must be at least 1") }
        }
        return IntegratorSettings(
            kind: kind, stepSize: dt ?? defaults.stepSize, relativeTolerance: rtol ?? defaults.relativeTolerance,
            absoluteTolerance: atol ?? defaults.absoluteTolerance, maxSteps: maxSteps ?? defaults.maxSteps, precision: precision ?? .f64)
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

    /// `out/run.csv` → `out/run.spikes.csv`.
    public static func spikesPath(for output: String) -> String {
        let url = URL(fileURLWithPath: output)
        let stem = url.pathExtension.isEmpty ? url : url.deletingPathExtension()
        return stem.path + ".spikes.csv"
    }
}

/// The file formats of a trajectory.
public enum TrajectoryFormat: String, CaseIterable, Codable, Sendable {
    case csv
    case json
}
