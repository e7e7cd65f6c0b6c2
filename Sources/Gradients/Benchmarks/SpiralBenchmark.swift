import Dispatch
import NeuroODE

/// The cost of training the spiral neural ODE (SCIENCE.md "Spiral neural ODE"): iterations of BPTT
/// through dopri5 (rtol = atol = 1e-4) on a minibatch of windows, each followed by an Adam step,
/// as `neuroode train spiral --method bptt` runs them. It lives in the library so the generic
/// method is specialised inside the module.
public struct SpiralBenchmark: Sendable {
    /// The problem's settings (hidden width, windows, learning rate).
    public var configuration: SpiralTraining.Configuration
    /// Timed iterations, after `warmUp` untimed ones.
    public var iterations: Int
    /// Untimed iterations first (they touch every buffer once).
    public var warmUp: Int
    /// Seed of the initialization and the minibatches.
    public var seed: UInt64

    /// A benchmark of `iterations` training iterations at hidden width `hidden`.
    public init(hidden: Int = 50, iterations: Int = 50, warmUp: Int = 3, seed: UInt64 = 0) {
        var configuration = SpiralTraining.Configuration.small
        configuration.hidden = hidden
        self.configuration = configuration
        self.iterations = iterations
        self.warmUp = warmUp
        self.seed = seed
    }

    /// What the run measured.
    public struct Measurement: Sendable {
        /// Wall time of each timed iteration, in milliseconds.
        public var milliseconds: [Double]
        /// The minibatch loss at the last iteration (a sanity value).
        public var finalLoss: Double

        /// The median iteration, in milliseconds.
        public var medianMilliseconds: Double { milliseconds.sorted()[milliseconds.count / 2] }
    }

    /// Runs the iterations; throws for a non-positive count or a failed solve.
    public func run() throws -> Measurement {
        guard iterations > 0, warmUp >= 0 else {
            throw ODEError.invalidParameter(name: "iterations", value: Double(iterations), reason: "must be positive")
        }
        let problem = try SpiralTraining(configuration: configuration)
        var theta = problem.initialParameters(seed: seed)
        var adam = Adam(learningRate: configuration.learningRate)
        let method = BackpropagationThroughTime()
        var milliseconds: [Double] = []
        var loss = Double.nan
        for iteration in 0..<(warmUp + iterations) {
            let start = DispatchTime.now().uptimeNanoseconds
            let estimate = try method.estimate(try problem.task(iteration: iteration, seed: seed), at: theta, iteration: iteration)
            adam.update(&theta, gradient: estimate.gradient)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-6
            if iteration >= warmUp { milliseconds.append(elapsed) }
            loss = estimate.loss
        }
        return Measurement(milliseconds: milliseconds, finalLoss: loss)
    }
}
