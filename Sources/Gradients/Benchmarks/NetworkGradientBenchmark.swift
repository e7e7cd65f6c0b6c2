import Dispatch
import Foundation
import NeuroODE

/// The cost of one gradient of the evidence-integration network (SCIENCE.md "Evidence integration"):
/// BPTT, checkpointed BPTT and one ES iteration, on the seeded N-neuron network with M-dimensional
/// token input and B trials, in float64 (float32 for ES with ``precision``).
///
/// The task is the evidence task's shape: 50 random binary tokens (5-token vocabulary, entries 0 or
/// 0.2) held for span/50 each (6 ms at 3000 steps of 0.1 ms, 20 ms at 10 000 — SCIENCE.md's cases A and
/// C), the cross-entropy readout loss (``EvidenceReadoutLoss``) with labels b mod 3, and θ = W_in,
/// W_rec, W_out, b_out as SCIENCE.md trains them. Only the timing matters here, so the labels need not
/// match the input. It lives in the library so the generic methods are specialised inside the module.
public struct NetworkGradientBenchmark: Sendable {
    /// N, the number of neurons.
    public var neurons: Int
    /// M, the input dimension.
    public var inputs: Int
    /// B, the number of trials.
    public var batchSize: Int
    /// Leapfrog Δt (ms).
    public var stepSize: Double
    /// Tokens per trial; each is held span/`tokens`.
    public var tokens: Int
    /// Seed of the input, the network and θ.
    public var seed: UInt64
    /// The forward pass's arithmetic (float32 for ES only).
    public var precision: Precision

    /// A benchmark configuration; the defaults are SCIENCE.md's evidence network (N = 128, M = 50, B = 64).
    public init(neurons: Int = 128, inputs: Int = 50, batchSize: Int = 64, stepSize: Double = 0.1, tokens: Int = 50, seed: UInt64 = 1,
                precision: Precision = .f64) {
        self.neurons = neurons
        self.inputs = inputs
        self.batchSize = batchSize
        self.stepSize = stepSize
        self.tokens = tokens
        self.seed = seed
        self.precision = precision
    }

    /// One gradient evaluation.
    public struct Run: Sendable, Codable {
        /// The gradient method's name.
        public var method: String
        /// Leapfrog steps of the simulated span.
        public var steps: Int
        /// Wall time of the evaluation, in seconds.
        public var seconds: Double
        /// The kernel's measurement of the resident memory the evaluation added (nil: unmeasurable).
        public var peakBytes: Int?
        /// What the method keeps for its backward pass.
        public var bytesStored: Int
        /// L(θ) as the method reports it.
        public var loss: Double
        /// ‖g‖₂ of the returned gradient (ES: of its estimate).
        public var gradientNorm: Double
        /// Forward solves of the whole network (ES: samples + 1).
        public var forwardSolves: Int
        /// N·B·steps·forward solves per second.
        public var neuronStepsPerSecond: Double
    }

    /// The evidence-shaped task over `steps` steps, and its θ at SCIENCE.md's initialisation.
    public func task(steps: Int) throws -> (task: TrainingTask<MorrisLecarNetwork, Leapfrog, EvidenceReadoutLoss>, theta: [Double]) {
        guard steps > 0 else { throw ODEError.invalidParameter(name: "steps", value: Double(steps), reason: "must be positive") }
        guard tokens > 0 else { throw ODEError.invalidParameter(name: "tokens", value: Double(tokens), reason: "must be positive") }
        let span = Double(steps) * stepSize
        let input = try TokenSequenceInput.random(
            channels: inputs, vocabularySize: 5, length: tokens, batchSize: batchSize,
            tokenDuration: span / Double(tokens), seed: seed)
        let network = try MorrisLecarNetwork.seeded(neurons: neurons, input: input, seed: seed)
        let loss = try EvidenceReadoutLoss(
            neurons: neurons, labels: (0..<batchSize).map { $0 % 3 }, endTime: span, synapse: network.synapse)
        let weights = network.neurons * (network.inputs + network.neurons)
        let task = try TrainingTask(
            name: "evidence-network", system: network, timeSpan: (0, span), integrator: Leapfrog(stepSize: stepSize, precision: precision),
            loss: loss, training: Array(network.parameterNames[0..<weights]))
        let theta = Array(network.defaultParameters[0..<weights]) + loss.seededParameters(seed: seed)
        return (task, theta)
    }

    /// BPTT over `steps` steps with the given checkpointing, the batch spread over `threads` cores.
    public func measureBackpropagation(
        steps: Int, checkpointing: BackpropagationThroughTime.Checkpointing = .none,
        threads: Int = Parallelism.defaultThreadCount
    ) throws -> Run {
        let (task, theta) = try self.task(steps: steps)
        return try measure(BackpropagationThroughTime(checkpointing: checkpointing, threads: threads), task, theta, steps)
    }

    /// One ES iteration (`samples` mirrored samples plus the unperturbed one) on `threads` cores.
    public func measureEvolutionStrategy(
        steps: Int, samples: Int = 100, sigma: Double = 0.1, threads: Int = Parallelism.defaultThreadCount
    ) throws -> Run {
        let (task, theta) = try self.task(steps: steps)
        return try measure(EvolutionStrategy(samples: samples, sigma: sigma, seed: seed, threads: threads), task, theta, steps)
    }

    private func measure(
        _ method: some GradientMethod, _ task: TrainingTask<MorrisLecarNetwork, Leapfrog, EvidenceReadoutLoss>,
        _ theta: [Double], _ steps: Int
    ) throws -> Run {
        let clock = DispatchTime.now().uptimeNanoseconds
        let (estimate, peak) = try PeakMemory.measure { try method.estimate(task, at: theta, iteration: 0) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        let solves = max(1, estimate.report.forwardSolves)
        return Run(
            method: method.name, steps: steps, seconds: seconds, peakBytes: peak, bytesStored: estimate.report.bytesStored,
            loss: estimate.loss, gradientNorm: euclideanNorm(estimate.gradient),
            forwardSolves: solves,
            neuronStepsPerSecond: Double(neurons * batchSize * steps * solves) / seconds)
    }
}
