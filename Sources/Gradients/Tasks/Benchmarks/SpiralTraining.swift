import NeuroODE

/// SCIENCE.md's spiral neural ODE as a training problem: dy/dt = MLP(y³), 2 → H → 2, trained on
/// minibatches of windows drawn from (seed, iteration), Adam lr 1e-3, target MAE 0.04.
///
/// The held-out metric is the MAE on a fixed set of windows spread evenly over the whole
/// trajectory, so it measures the same thing at every evaluation while minibatch losses jitter.
public struct SpiralTraining: TrainingProblem {
    /// The run's settings; ``small`` and ``paper`` are the presets.
    public struct Configuration: Codable, Sendable, Equatable {
        /// H, the hidden-layer width.
        public var hidden: Int
        /// Windows per minibatch.
        public var windows: Int
        /// Consecutive sample points per window (at least 2).
        public var windowLength: Int
        /// Windows of the evaluation set, evenly spaced.
        public var testWindows: Int
        /// Default number of training iterations.
        public var iterations: Int
        /// Adam's default learning rate.
        public var learningRate: Double
        /// Default ES samples per estimate.
        public var samples: Int
        /// Default ES σ, in weight units.
        public var sigma: Double

        /// A configuration; ``SpiralTraining/init(configuration:)`` validates it.
        public init(hidden: Int, windows: Int, windowLength: Int, testWindows: Int, iterations: Int, learningRate: Double, samples: Int, sigma: Double) {
            self.hidden = hidden
            self.windows = windows
            self.windowLength = windowLength
            self.testWindows = testWindows
            self.iterations = iterations
            self.learningRate = learningRate
            self.samples = samples
            self.sigma = sigma
        }

        /// H = 50 for 1000 iterations, ES with 40 samples: BPTT and ES together take under half
        /// a minute on two cores (release build).
        public static let small = Configuration(hidden: 50, windows: 20, windowLength: 10, testWindows: 50, iterations: 1000, learningRate: 1e-3, samples: 40, sigma: 0.01)
        /// SCIENCE.md: 2000 iterations, ES with 100 samples (H = 50; 1000 with `hidden`).
        public static let paper = Configuration(hidden: 50, windows: 20, windowLength: 10, testWindows: 100, iterations: 2000, learningRate: 1e-3, samples: 100, sigma: 0.01)
    }

    public let configuration: Configuration
    /// The ground truth and the model.
    public let spiral: SpiralTask

    /// Solves the ground truth; throws `ODEError` for a width, window count or test-window count
    /// below 1, or a window length below 2 or not below the number of sample points.
    public init(configuration: Configuration = .small) throws(ODEError) {
        for (name, value, least) in [("hidden", configuration.hidden, 1), ("windows", configuration.windows, 1),
                                     ("windowLength", configuration.windowLength, 2), ("testWindows", configuration.testWindows, 1)]
        where value < least {
            throw .invalidParameter(name: name, value: Double(value), reason: "must be at least \(least)")
        }
        spiral = try SpiralTask(hidden: configuration.hidden)
        guard configuration.windowLength < spiral.times.count else {
            throw .invalidParameter(name: "windowLength", value: Double(configuration.windowLength), reason: "must be below \(spiral.times.count)")
        }
        self.configuration = configuration
    }

    public var name: String { "spiral" }
    public var parameterNames: [String] { spiral.model.parameterNames }
    public func initialParameters(seed: UInt64) -> [Double] { spiral.model.initialParameters(seed: seed) }

    public func task(iteration: Int, seed: UInt64) throws -> TrainingTask<BatchedSystem<NeuralODE>, DormandPrince, TrajectoryMatchingLoss> {
        let starts = spiral.windowStarts(seed: seed, iteration: iteration, windows: configuration.windows, windowLength: configuration.windowLength)
        return try spiral.batchTask(starts: starts, windowLength: configuration.windowLength, parameters: spiral.model.defaultParameters)
    }

    public var testMetric: TestMetric? { TestMetric(name: "test_mae", higherIsBetter: false) }

    public func evaluateTestMetric(at theta: [Double], seed: UInt64) throws -> Double {
        let last = spiral.times.count - configuration.windowLength
        let count = configuration.testWindows
        let starts = (0..<count).map { count == 1 ? 0 : $0 * last / (count - 1) }
        return try spiral.batchTask(starts: starts, windowLength: configuration.windowLength, parameters: spiral.model.defaultParameters)
            .loss(at: theta)
    }

    public var target: TrainingTarget { TrainingTarget(quantity: .testMetric, threshold: 0.04, higherIsBetter: false) }

    public var defaults: TrainingDefaults {
        TrainingDefaults(
            optimizer: .adam(Adam(learningRate: configuration.learningRate)), iterations: configuration.iterations,
            evaluationInterval: 10, samples: configuration.samples, sigma: configuration.sigma)
    }
}
