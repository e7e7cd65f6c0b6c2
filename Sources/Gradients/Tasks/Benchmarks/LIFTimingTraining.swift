import NeuroODE

/// The LIF spike-timing benchmark (README "Gradients through events"): fixed input spike trains
/// through learnable weights into a small ``LIFLayer`` whose neurons must fire at target times,
/// the classic task of the event-based backpropagation literature. The targets are the first K
/// spike times of a teacher layer with seeded weights W*, so they are reachable; the student starts
/// from independently seeded weights. Loss: ``SpikeRegisterLoss`` (mean squared spike-time error,
/// ms²); solved below 0.25 ms² (a root-mean-square timing error of 0.5 ms). The forward pass is
/// dopri5 (``init(configuration:)``) or the leapfrog (``init(configuration:leapfrogStep:)``,
/// through ``LIFLayer``'s conductance form), each of which locates every reset inside its step, so
/// BPTT (either) and the partial adjoint (dopri5) differentiate through them and ES sees smooth
/// spike times. The teacher always runs dopri5, so both see the same targets.
public struct LIFTimingTraining<Method: Integrator>: TrainingProblem {
    public typealias Configuration = LIFTimingConfiguration

    public let configuration: Configuration
    /// Input spike times per channel (seeded by the configuration, not by the run's seed).
    public let inputSpikes: [[Double]]
    /// W* and its target spike times (neuron-major, K per neuron).
    public let teacherWeights: [Double]
    public let targets: [Double]
    private let task: TrainingTask<LIFLayer, Method, SpikeRegisterLoss>

    /// The data seed: the inputs and the teacher are fixed by it, so every run sees the same problem.
    public static var dataSeed: UInt64 { 12 }

    /// Draws the inputs and a teacher that fires at least K times per neuron within T (the first of
    /// the seeded teachers that does), and trains the student through `student`; throws for sizes
    /// below 1 or a teacher that never fires enough.
    private init(configuration: Configuration, student: Method) throws {
        let c = configuration
        guard c.neurons >= 1, c.inputs >= 1, c.spikesPerNeuron >= 1, c.inputSpikesPerChannel >= 1,
              c.inputWindow > 0, c.horizon > c.inputWindow, c.tolerance > 0 else {
            throw TrainingError.invalidOption(name: "configuration", value: "\(c)", reason: "sizes must be at least 1 and the window inside the horizon")
        }
        self.configuration = c
        var generator = SeededGenerator(seed: Self.dataSeed, stream: 0)
        inputSpikes = (0..<c.inputs).map { _ in
            (0..<c.inputSpikesPerChannel).map { _ in generator.nextUniform(in: 0..<c.inputWindow) }.sorted()
        }
        let integrator = DormandPrince(relativeTolerance: c.tolerance, absoluteTolerance: c.tolerance)
        var found: (weights: [Double], targets: [Double])?
        for attempt in 0..<100 where found == nil {
            let weights = Self.weights(c, seed: Self.dataSeed, stream: 1 + UInt64(attempt))
            let layer = try LIFLayer(neurons: c.neurons, inputSpikes: inputSpikes, weights: weights, recordedSpikes: c.spikesPerNeuron, horizon: c.horizon)
            let final = try integrator.solve(ODEProblem(system: layer, timeSpan: (0, c.horizon)), output: .finalState).finalState
            let registers = Array(final[(2 * c.neurons)...])
            if registers.allSatisfy({ $0 < c.horizon }) { found = (weights, registers) }
        }
        guard let found else {
            throw TrainingError.invalidOption(name: "configuration", value: "\(c)", reason: "no seeded teacher fires \(c.spikesPerNeuron) times per neuron")
        }
        teacherWeights = found.weights
        targets = found.targets
        let layer = try LIFLayer(
            neurons: c.neurons, inputSpikes: inputSpikes, weights: found.weights, recordedSpikes: c.spikesPerNeuron, horizon: c.horizon)
        let registers = (0..<c.neurons).flatMap { j in (0..<c.spikesPerNeuron).map { layer.registerIndex(neuron: j, spike: $0) } }
        task = try TrainingTask(
            name: "lif-timing", system: layer, timeSpan: (0, c.horizon), integrator: student,
            loss: SpikeRegisterLoss(endTime: c.horizon, registers: registers, targets: found.targets, dimension: layer.dimension),
            training: layer.parameterNames)
    }

    private static func weights(_ c: Configuration, seed: UInt64, stream: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed, stream: stream)
        return (0..<(c.neurons * c.inputs)).map { _ in generator.nextGaussian(mean: c.weightMean, standardDeviation: c.weightSpread) }
    }

    public var name: String { "lif-timing" }
    public var parameterNames: [String] { task.parameterNames }
    /// Student weights drawn like the teacher's, from the run's seed (a stream the teacher never uses).
    public func initialParameters(seed: UInt64) -> [Double] { Self.weights(configuration, seed: seed, stream: 1000) }
    public func task(iteration: Int, seed: UInt64) -> TrainingTask<LIFLayer, Method, SpikeRegisterLoss> { task }
    public var target: TrainingTarget { TrainingTarget(quantity: .loss, threshold: 0.25, higherIsBetter: false) }

    public var defaults: TrainingDefaults {
        TrainingDefaults(
            optimizer: .adam(Adam(learningRate: configuration.learningRate)), iterations: configuration.iterations,
            evaluationInterval: 10, samples: configuration.samples, sigma: configuration.sigma)
    }
}

extension LIFTimingTraining where Method == DormandPrince {
    /// The benchmark with a dopri5 student at the configuration's tolerance.
    public init(configuration: Configuration = .small) throws {
        guard configuration.leapfrogStep == nil else {
            throw TrainingError.invalidOption(
                name: "leapfrogStep", value: "\(configuration.leapfrogStep!)", reason: "a dopri5 run has no leapfrog step: use init(configuration:leapfrogStep:)")
        }
        try self.init(
            configuration: configuration, student: DormandPrince(relativeTolerance: configuration.tolerance, absoluteTolerance: configuration.tolerance))
    }
}

extension LIFTimingTraining where Method == Leapfrog {
    /// The benchmark with a leapfrog student at Δt = `leapfrogStep` ms (recorded in the configuration).
    public init(configuration: Configuration = .small, leapfrogStep: Double) throws {
        guard leapfrogStep.isFinite, leapfrogStep > 0, leapfrogStep < configuration.horizon else {
            throw TrainingError.invalidOption(name: "leapfrogStep", value: "\(leapfrogStep)", reason: "must be finite, positive and below the horizon")
        }
        var recorded = configuration
        recorded.leapfrogStep = leapfrogStep
        try self.init(configuration: recorded, student: Leapfrog(stepSize: leapfrogStep))
    }
}

/// The settings of a ``LIFTimingTraining`` run; ``small`` and ``paper`` are the presets.
public struct LIFTimingConfiguration: Codable, Sendable, Equatable {
    /// N, M, and K spikes per neuron.
    public var neurons: Int, inputs: Int, spikesPerNeuron: Int
    /// Input spikes per channel, drawn uniformly in the first ``inputWindow`` ms.
    public var inputSpikesPerChannel: Int
    public var inputWindow: Double
    /// T (ms).
    public var horizon: Double
    /// Mean and spread (mV) of the seeded weights, teacher and student alike.
    public var weightMean: Double, weightSpread: Double
    /// dopri5 tolerances (relative and absolute); also the teacher's, whatever the student's integrator.
    public var tolerance: Double
    /// The leapfrog's Δt (ms) when the student's forward pass is the leapfrog
    /// (``LIFTimingTraining/init(configuration:leapfrogStep:)``); nil: dopri5.
    public var leapfrogStep: Double? = nil
    public var iterations: Int
    public var learningRate: Double
    public var samples: Int
    /// ES σ in mV.
    public var sigma: Double

    /// 3 neurons, 12 inputs, 2 spikes each over 40 ms: each method trains in seconds.
    public static let small = LIFTimingConfiguration(
        neurons: 3, inputs: 12, spikesPerNeuron: 2, inputSpikesPerChannel: 2, inputWindow: 25, horizon: 40,
        weightMean: 4, weightSpread: 2, tolerance: 1e-8, iterations: 100, learningRate: 0.1, samples: 20, sigma: 0.1)
    /// A larger layer: 10 neurons, 50 inputs, 3 spikes each over 60 ms.
    public static let paper = LIFTimingConfiguration(
        neurons: 10, inputs: 50, spikesPerNeuron: 3, inputSpikesPerChannel: 2, inputWindow: 40, horizon: 60,
        weightMean: 1.2, weightSpread: 0.8, tolerance: 1e-8, iterations: 300, learningRate: 0.05, samples: 100, sigma: 0.1)
}
