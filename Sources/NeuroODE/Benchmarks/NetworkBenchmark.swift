import CSundials
import Dispatch
import Foundation

/// Times the leapfrog simulation of a seeded Morris–Lecar network (the evidence task's shape:
/// N neurons, M-dimensional token input, B trials), the workload that dominates ES training.
///
/// It lives in the library so the generic integrator is specialised inside the module. Every
/// run simulates the same problem from the same state; the median of `repeats` runs is reported,
/// together with the time the `dgemm` calls alone take for the same number of steps and the same
/// split, which bounds what any element-wise optimisation can still gain.
public struct NetworkBenchmark: Sendable {
    /// N, the number of neurons.
    public var neurons: Int
    /// M, the input dimension.
    public var inputs: Int
    /// B, the number of trials simulated together.
    public var batchSize: Int
    /// Leapfrog steps per run.
    public var steps: Int
    /// Timed runs; the median is reported.
    public var repeats: Int
    /// Worker threads: the batch is split into at most this many trial groups.
    public var threads: Int
    /// Δt (ms).
    public var stepSize: Double
    /// How long each input token is held (ms).
    public var tokenDuration: Double
    /// Seed of the random input and network weights.
    public var seed: UInt64
    /// The leapfrog's arithmetic.
    public var precision: Precision

    /// A benchmark configuration; the defaults are the evidence task's shape (N = 128, M = 50, B = 64).
    public init(
        neurons: Int = 128, inputs: Int = 50, batchSize: Int = 64, steps: Int = 3000, repeats: Int = 5,
        threads: Int = Parallelism.defaultThreadCount, stepSize: Double = 0.1,
        tokenDuration: Double = 6, seed: UInt64 = 1, precision: Precision = .f64
    ) {
        self.neurons = neurons
        self.inputs = inputs
        self.batchSize = batchSize
        self.steps = steps
        self.repeats = repeats
        self.threads = threads
        self.stepSize = stepSize
        self.tokenDuration = tokenDuration
        self.seed = seed
        self.precision = precision
    }

    /// The timings of one benchmark.
    public struct Measurement: Sendable {
        /// Wall time of each run, in seconds.
        public var runSeconds: [Double]
        /// Wall time of the float64 matrix products alone for each run's steps, in seconds (empty for
        /// float32 runs).
        public var matrixProductSeconds: [Double]
        /// Neuron-steps (N·B·steps) per run.
        public var neuronSteps: Int
        /// Mean membrane potential at the end of the run (a sanity value: it must be finite).
        public var finalMeanVoltage: Double

        /// The median run time, in seconds.
        public var medianSeconds: Double { Self.median(runSeconds) }
        /// The median time of the matrix products alone, in seconds (nil when not measured).
        public var medianMatrixProductSeconds: Double? { matrixProductSeconds.isEmpty ? nil : Self.median(matrixProductSeconds) }
        /// Throughput: neuron-steps per second of the median run.
        public var neuronStepsPerSecond: Double { Double(neuronSteps) / medianSeconds }
        /// Fraction of the run spent in `dgemm` (estimated from the separate product timing).
        public var matrixProductShare: Double? { medianMatrixProductSeconds.map { $0 / medianSeconds } }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            let mid = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid])
        }
    }

    /// Runs the benchmark; throws ``ODEError`` for a non-positive step count, repeat count, thread
    /// count or step size, or a span that needs more than 10⁷ input tokens.
    public func run() throws(ODEError) -> Measurement {
        guard steps > 0 else { throw .invalidParameter(name: "steps", value: Double(steps), reason: "must be positive") }
        guard repeats > 0 else { throw .invalidParameter(name: "repeats", value: Double(repeats), reason: "must be positive") }
        guard threads > 0 else { throw .invalidParameter(name: "threads", value: Double(threads), reason: "must be positive") }
        guard stepSize.isFinite, stepSize > 0 else { throw .invalidStepSize(stepSize) }
        let tokens = (Double(steps) * stepSize / tokenDuration).rounded(.up)
        guard tokens.isFinite, tokens <= 1e7 else {
            throw .invalidParameter(name: "steps × dt", value: Double(steps) * stepSize, reason: "the input would need \(tokens) tokens")
        }
        let segments = Swift.max(1, Int(tokens))
        let input = try TokenSequenceInput.random(
            channels: inputs, vocabularySize: 5, length: segments, batchSize: batchSize,
            tokenDuration: tokenDuration, seed: seed)
        let network = try MorrisLecarNetwork.seeded(neurons: neurons, input: input, seed: seed)
        let span = (start: 0.0, end: Double(steps) * stepSize)
        var runs: [Double] = [], products: [Double] = []
        var finalState: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            finalState = try network.simulate(timeSpan: span, stepSize: stepSize, precision: precision, threads: threads)
            runs.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            if precision == .f64 { products.append(try timeMatrixProducts(network)) }
        }
        let voltages = finalState[0..<(neurons * batchSize)]
        return Measurement(
            runSeconds: runs, matrixProductSeconds: products, neuronSteps: neurons * batchSize * steps,
            finalMeanVoltage: voltages.reduce(0, +) / Double(voltages.count))
    }

    /// The synaptic input of every part (the W_rec·T product and the input term), `steps` times,
    /// in parallel as the simulation runs them.
    private func timeMatrixProducts(_ network: MorrisLecarNetwork) throws(ODEError) -> Double {
        let parts = try network.splitBatch(into: Swift.max(1, Swift.min(threads, network.maximumParts)))
        let steps = self.steps
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: parts.count) { k in
            let part = parts[k]
            let count = part.neurons * part.batchSize
            var scratch = [Double](repeating: 0.5, count: count)
            var current = [Double](repeating: 0, count: count)
            part.defaultParameters.withUnsafeBufferPointer { p in
                scratch.withUnsafeMutableBufferPointer { t in
                    current.withUnsafeMutableBufferPointer { c in
                        for step in 0..<steps {
                            part.writeNetworkInput(
                                at: Double(step) * stepSize, scratch: t.baseAddress!, parameters: p, into: c.baseAddress!)
                        }
                    }
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    }
}
