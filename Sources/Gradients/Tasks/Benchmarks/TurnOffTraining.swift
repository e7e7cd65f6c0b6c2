import NeuroODE

/// SCIENCE.md's turn-off task as a training problem: learn the current I of one Morris–Lecar neuron
/// (`hopf`), from I = 100 on its limit cycle, until it stops firing (loss < 1e-3). The task is the
/// same every iteration (no data to sample), so only ES's noise changes between iterations.
public struct TurnOffTraining: TrainingProblem {
    /// The run's settings; ``small`` and ``paper`` are the presets.
    public struct Configuration: Codable, Sendable, Equatable {
        /// τ in ms.
        public var horizon: Double
        /// Leapfrog step in ms.
        public var stepSize: Double
        /// Default number of training iterations.
        public var iterations: Int
        /// Adam's learning rate, in µA/cm² per step.
        public var learningRate: Double
        /// Default ES samples per estimate.
        public var samples: Int
        /// ES σ in µA/cm²: wide enough to smooth the spike-count steps of a long horizon, narrow
        /// enough that the first estimates see the firing side of the cliff near I ≈ 95.5.
        public var sigma: Double
        /// The leapfrog's arithmetic: float64 (default) or float32, which only ES accepts.
        public var precision: Precision

        /// A configuration; ``TurnOffTraining/init(configuration:)`` validates it.
        public init(
            horizon: Double, stepSize: Double, iterations: Int, learningRate: Double, samples: Int, sigma: Double,
            precision: Precision = .f64
        ) {
            self.horizon = horizon
            self.stepSize = stepSize
            self.iterations = iterations
            self.learningRate = learningRate
            self.samples = samples
            self.sigma = sigma
            self.precision = precision
        }

        /// SCIENCE.md's 3 s horizon, 100 iterations, ES with 20 samples: BPTT and ES together take
        /// about 20 s on two cores (release build).
        public static let small = Configuration(horizon: 3000, stepSize: 0.1, iterations: 100, learningRate: 0.1, samples: 20, sigma: 1)
        /// SCIENCE.md's setting: 3 s, ES with 100 samples.
        public static let paper = Configuration(horizon: 3000, stepSize: 0.1, iterations: 200, learningRate: 0.1, samples: 100, sigma: 1)
    }

    public let configuration: Configuration
    private let task: TrainingTask<MorrisLecar, Leapfrog, MeanActivityLoss>

    /// Builds the task; throws `ODEError` for a step that is not in (0, horizon] or a non-positive horizon.
    public init(configuration: Configuration = .small) throws(ODEError) {
        guard configuration.stepSize.isFinite, configuration.stepSize > 0, configuration.stepSize <= configuration.horizon else {
            throw .invalidStepSize(configuration.stepSize)
        }
        self.configuration = configuration
        task = try TurnOffTask.make(horizon: configuration.horizon, integrator: Leapfrog(stepSize: configuration.stepSize, precision: configuration.precision))
    }

    public var name: String { "turn-off" }
    public var parameterNames: [String] { task.parameterNames }
    /// I = 100 whatever the seed: the task's starting point is fixed by SCIENCE.md.
    public func initialParameters(seed: UInt64) -> [Double] { [100] }
    public func task(iteration: Int, seed: UInt64) -> TrainingTask<MorrisLecar, Leapfrog, MeanActivityLoss> { task }
    public var target: TrainingTarget { TrainingTarget(quantity: .loss, threshold: TurnOffTask.target, higherIsBetter: false) }

    public var defaults: TrainingDefaults {
        TrainingDefaults(
            optimizer: .adam(Adam(learningRate: configuration.learningRate)), iterations: configuration.iterations,
            evaluationInterval: 10, samples: configuration.samples, sigma: configuration.sigma)
    }
}
