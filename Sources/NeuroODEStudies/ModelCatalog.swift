import Foundation
import NeuroODE

/// The models `simulate` knows, by command-line name.
///
/// Adding a model is one ``ModelEntry`` in ``ModelCatalog/entries``: its name, presets, defaults
/// and a factory that builds the concrete system and wraps it in a ``SimulationRunner``. The
/// runner is generic over the system, so every integrator runs specialised on the model.
public enum ModelCatalog {
    /// The built-in entries; ``StudyRegistry`` starts from these.
    public static let builtIn: [ModelEntry] = [
        ModelEntry(
            name: "morris-lecar",
            summary: "Morris–Lecar neuron: voltage V (mV) and K+ gate w; time in ms",
            presets: MorrisLecar.Preset.allCases.map(\.rawValue),
            defaults: SimulationDefaults(integrator: .leapfrog, stepSize: 0.1, endTime: 1000)
        ) { options throws(CommandLineError) in
            SimulationRunner(MorrisLecar(preset: try options.preset(as: MorrisLecar.Preset.self)))
        },
        ModelEntry(
            name: "hodgkin-huxley",
            summary: "Hodgkin–Huxley squid axon, state (V, m, h, n); parameters C gNa gK gL ENa EK EL I",
            defaults: SimulationDefaults(integrator: .leapfrog, stepSize: 0.01, endTime: 100)
        ) { _ in SimulationRunner(HodgkinHuxley()) },
        ModelEntry(
            name: "lif",
            summary: "leaky integrate-and-fire with a refractory period (--param tref=…, default 2 ms; 0 drops r), state (V, r); parameters tau EL R I Vth Vreset; spikes are its threshold events",
            structuralParameters: ["tref"],
            defaults: SimulationDefaults(integrator: .leapfrog, stepSize: 0.01, endTime: 200)
        ) { options throws(CommandLineError) in
            let tref = options.structural["tref"] ?? 2
            guard tref.isFinite, tref >= 0 else {
                throw .invalidValue(option: "--param", value: "tref=\(tref)", reason: "the refractory period (ms) must be finite and non-negative")
            }
            return SimulationRunner(LeakyIntegrateAndFire(refractoryPeriod: tref), spikeSource: .events([0]))
        },
        ModelEntry(
            name: "izhikevich",
            summary: "Izhikevich neuron, state (v, u); parameters a b c d I (I = 10); spikes are its v = 30 mV reset events",
            presets: Izhikevich.Preset.allCases.map(\.rawValue),
            defaults: SimulationDefaults(integrator: .dopri5, endTime: 200, relativeTolerance: 1e-8, absoluteTolerance: 1e-10)
        ) { options throws(CommandLineError) in
            SimulationRunner(Izhikevich(preset: try options.preset(as: Izhikevich.Preset.self)), spikeSource: .events([0]))
        },
        ModelEntry(
            name: "rober",
            summary: "Robertson's stiff chemical kinetics, state (y1, y2, y3); parameters k1 k2 k3",
            defaults: SimulationDefaults(
                integrator: .cvodeBDF, endTime: 4e10, output: .logarithmic(first: 1e-6, perDecade: 10),
                absoluteTolerance: 1e-10, plot: .states(logarithmicTime: true))
        ) { _ in SimulationRunner(Rober()) },
        ModelEntry(
            name: "ml-network",
            summary: "recurrent Morris–Lecar network (SCIENCE.md evidence shape: 50 input channels, tokens of 6 ms, 5 random binary tokens), state (V, w) per neuron and trial; parameters W_in W_rec bias gain I_bias",
            presets: ["snic", "hopf", "explosive", "snic-explosive"],
            network: NetworkDefaults(neurons: 128, batch: 1, seed: 0),
            defaults: SimulationDefaults(integrator: .leapfrog, endTime: 300)
        ) { options throws(CommandLineError) in
            let preset = try options.preset(as: MorrisLecar.Preset.self, default: .snic)
            do throws(ODEError) {
                let input = try TokenSequenceInput.random(
                    channels: 50, vocabularySize: 5, length: 50, batchSize: options.batch, tokenDuration: 6, seed: options.seed)
                return SimulationRunner(try MorrisLecarNetwork.seeded(neurons: options.neurons, input: input, seed: options.seed, preset: preset))
            } catch {
                throw .invalidValue(option: "--neurons", value: "\(options.neurons)", reason: error.description)
            }
        },
    ]

    /// Every entry, the built-in ones first, then those registered (``StudyRegistry``).
    public static var entries: [ModelEntry] { StudyRegistry.shared.models }

    public static var names: [String] { entries.map(\.name) }

    public static func entry(named name: String) throws(CommandLineError) -> ModelEntry {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw .unknownName(kind: "model", name: name, choices: names)
        }
        return entry
    }
}

/// One model in the catalog.
public struct ModelEntry: Sendable {
    public let name: String
    public let summary: String
    /// Preset names, the default first; empty for a model without presets.
    public let presets: [String]
    /// Defaults for `--neurons`, `--batch` and `--seed`; `nil` for a single-neuron model, which
    /// then rejects those options.
    public let network: NetworkDefaults?
    /// `--param` names that choose the model's structure (LIF's `tref` sets its dimension) rather
    /// than an entry of the parameter vector: they reach ``makeRunner`` in ``ModelOptions/structural``.
    public let structuralParameters: [String]
    public let defaults: SimulationDefaults
    /// Builds the system for the chosen preset (already checked against ``presets``) and network
    /// size.
    public let makeRunner: @Sendable (ModelOptions) throws(CommandLineError) -> SimulationRunner

    public init(
        name: String, summary: String, presets: [String] = [], network: NetworkDefaults? = nil,
        structuralParameters: [String] = [], defaults: SimulationDefaults,
        makeRunner: @escaping @Sendable (ModelOptions) throws(CommandLineError) -> SimulationRunner
    ) {
        self.name = name
        self.summary = summary
        self.presets = presets
        self.network = network
        self.structuralParameters = structuralParameters
        self.defaults = defaults
        self.makeRunner = makeRunner
    }
}

/// Per-model defaults for everything the command line can override.
public struct SimulationDefaults: Sendable {
    public var integrator: IntegratorKind
    public var stepSize = 0.1
    public var endTime: Double
    public var output = OutputDefault.everyStep
    public var relativeTolerance = 1e-6
    public var absoluteTolerance = 1e-8
    public var maxSteps = 500_000
    public var plot = PlotDefault.voltages

    public init(
        integrator: IntegratorKind, stepSize: Double = 0.1, endTime: Double, output: OutputDefault = .everyStep,
        relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 1e-8, maxSteps: Int = 500_000, plot: PlotDefault = .voltages
    ) {
        self.integrator = integrator
        self.stepSize = stepSize
        self.endTime = endTime
        self.output = output
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
        self.plot = plot
    }
}

/// The output times used when `--times` is not given.
public enum OutputDefault: Sendable {
    /// Every step of the integrator (the initial and final states included).
    case everyStep
    /// t = 0, then `perDecade` logarithmically spaced times per decade from `first` up to the
    /// end time, which is always included: for stiff problems spanning many decades (ROBER).
    case logarithmic(first: Double, perDecade: Int)

    public func schedule(endTime: Double) -> OutputSchedule {
        switch self {
        case .everyStep:
            return .everyStep(1)
        case let .logarithmic(first, perDecade):
            guard endTime > first, first > 0, perDecade > 0 else { return .everyStep(1) }
            var times = [0.0]
            var k = 0
            while true {
                let t = first * pow(10, Double(k) / Double(perDecade))
                guard t < endTime * (1 - 1e-12) else { break }
                times.append(t)
                k += 1
            }
            times.append(endTime)
            return .times(times)
        }
    }
}

/// What `--plot` draws when nothing else is asked.
public enum PlotDefault: Sendable {
    /// Membrane potentials against time; a spike raster for many neurons.
    case voltages
    /// Every state variable against time, optionally on a logarithmic time axis.
    case states(logarithmicTime: Bool)
}

public struct NetworkDefaults: Sendable {
    public var neurons: Int
    public var batch: Int
    public var seed: UInt64

    /// Sets every stored property.
    public init(neurons: Int, batch: Int, seed: UInt64) {
        self.neurons = neurons
        self.batch = batch
        self.seed = seed
    }
}

/// The model-shaping choices of one run, resolved against the entry's defaults.
public struct ModelOptions: Sendable {
    public var preset: String?
    public var neurons: Int
    public var batch: Int
    public var seed: UInt64
    /// Values of the entry's ``ModelEntry/structuralParameters`` given with `--param`.
    public var structural: [String: Double] = [:]

    /// The preset as the model's own enumeration.
    public func preset<Preset: RawRepresentable & CaseIterable>(as type: Preset.Type, default fallback: Preset? = nil) throws(CommandLineError) -> Preset
    where Preset.RawValue == String {
        let choices = Preset.allCases.map(\.rawValue)
        let name = preset ?? fallback?.rawValue ?? choices.first ?? ""
        guard let value = Preset(rawValue: name) else {
            throw .unknownName(kind: "preset", name: name, choices: choices)
        }
        return value
    }

    /// Sets every stored property.
    public init(preset: String? = nil, neurons: Int, batch: Int, seed: UInt64, structural: [String: Double] = [:]) {
        self.preset = preset
        self.neurons = neurons
        self.batch = batch
        self.seed = seed
        self.structural = structural
    }
}
