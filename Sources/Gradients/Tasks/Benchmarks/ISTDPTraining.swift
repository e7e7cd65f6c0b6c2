import Foundation
import NeuroODE

/// Rediscovering inhibitory STDP (Vogels et al. 2011; Confavreux et al. 2020; README "Plastic
/// networks"): learn the coefficients (α, β, κ, γ) of a ``PlasticSpikingNeuron``'s rule so that,
/// after an inner learning run, the neuron fires at the target rate ρ₀ and its inhibitory weights
/// track the excitatory ones group by group (``BalancedRateLoss``).
///
/// **Inputs**: G groups, each an excitatory and an inhibitory Poisson train whose rates share one
/// modulation m_g(t) (co-modulated, as in Vogels et al.): m_g is constant over bins of
/// `modulationBin` ms and drawn per bin from an exponential distribution of mean 1, independently
/// per group; the trains have rates ρ_E·m_g and ρ_I·m_g. The excitatory weights are tuned,
/// w_E,g = w̄_E(1 + 0.8 cos(2π(g − G/2)/G)) (peak at group G/2), the inhibitory ones start flat
/// at `initialInhibitoryWeight`. The input spike trains are fixed by the run's seed (the same every
/// iteration: a deterministic meta-loss, so finite differences and CMA-ES see no sampling noise);
/// the held-out metric scores θ on trains from another stream.
///
/// **Inner run**: [0, T] with dopri5 (every input spike and reset an event); the meta-loss is
/// scored over the last W ms. **θ** = (α, β, κ, γ), from the origin (no plasticity); η and the
/// trace time constants (20 ms) are fixed (a positive factor on θ trades against η).
/// ``vogelsRule`` is the rule to rediscover; ``distanceToVogels(_:)`` measures how far a rule is
/// from it up to that factor.
public struct ISTDPTraining: TrainingProblem {
    /// The run's settings; ``small`` and ``paper`` are the presets.
    public struct Configuration: Codable, Sendable, Equatable {
        /// G, the input groups.
        public var groups: Int
        /// ρ_E, ρ_I: mean rates of each group's excitatory and inhibitory train (Hz).
        public var excitatoryRate: Double, inhibitoryRate: Double
        /// w̄_E, the mean excitatory weight, and the inhibitory weights at t = 0 (leak conductance units).
        public var excitatoryWeight: Double, initialInhibitoryWeight: Double
        /// The modulation's bin (ms).
        public var modulationBin: Double
        /// T and W (ms).
        public var duration: Double, window: Double
        /// ρ₀ (Hz).
        public var targetRate: Double
        /// η, the weight change per unit of the rule's terms.
        public var eta: Double
        /// dopri5's relative and absolute tolerance.
        public var tolerance: Double
        /// Default outer iterations (CMA-ES generations).
        public var iterations: Int
        /// Adam's default learning rate for the gradient methods.
        public var learningRate: Double
        /// Default ES samples, and the ES σ and CMA-ES σ₀ in coefficient units.
        public var samples: Int, sigma: Double

        /// A configuration; ``ISTDPTraining/init(configuration:)`` validates it.
        public init(
            groups: Int, excitatoryRate: Double, inhibitoryRate: Double, excitatoryWeight: Double, initialInhibitoryWeight: Double,
            modulationBin: Double, duration: Double, window: Double, targetRate: Double, eta: Double, tolerance: Double,
            iterations: Int, learningRate: Double, samples: Int, sigma: Double
        ) {
            self.groups = groups
            self.excitatoryRate = excitatoryRate
            self.inhibitoryRate = inhibitoryRate
            self.excitatoryWeight = excitatoryWeight
            self.initialInhibitoryWeight = initialInhibitoryWeight
            self.modulationBin = modulationBin
            self.duration = duration
            self.window = window
            self.targetRate = targetRate
            self.eta = eta
            self.tolerance = tolerance
            self.iterations = iterations
            self.learningRate = learningRate
            self.samples = samples
            self.sigma = sigma
        }

        /// 8 groups, 3 s inner runs scored over the last 1 s, 40 iterations.
        public static let small = Configuration(
            groups: 8, excitatoryRate: 100, inhibitoryRate: 50, excitatoryWeight: 0.08, initialInhibitoryWeight: 0.02,
            modulationBin: 50, duration: 3000, window: 1000, targetRate: 5, eta: 0.015, tolerance: 1e-6,
            iterations: 40, learningRate: 0.05, samples: 10, sigma: 0.1)
        /// 8 groups, 10 s inner runs scored over the last 4 s, 150 iterations.
        public static let paper = Configuration(
            groups: 8, excitatoryRate: 100, inhibitoryRate: 50, excitatoryWeight: 0.08, initialInhibitoryWeight: 0.02,
            modulationBin: 50, duration: 10_000, window: 4000, targetRate: 5, eta: 0.015, tolerance: 1e-6,
            iterations: 150, learningRate: 0.05, samples: 20, sigma: 0.1)
    }

    public let configuration: Configuration
    /// w_E,g.
    public let excitatoryWeights: [Double]

    /// Validates the settings; throws ``ODEError`` naming the first bad one.
    public init(configuration: Configuration = .small) throws(ODEError) {
        let c = configuration
        guard c.groups >= 1 else { throw .dimensionMismatch(what: "input groups of the istdp task (at least 1)", expected: 1, actual: c.groups) }
        let positive = [
            ("excitatoryRate", c.excitatoryRate), ("inhibitoryRate", c.inhibitoryRate), ("excitatoryWeight", c.excitatoryWeight),
            ("initialInhibitoryWeight", c.initialInhibitoryWeight), ("modulationBin", c.modulationBin), ("duration", c.duration),
            ("window", c.window), ("targetRate", c.targetRate), ("eta", c.eta), ("tolerance", c.tolerance),
        ]
        if let (name, value) = positive.first(where: { !($0.1.isFinite && $0.1 > 0) }) {
            throw .invalidParameter(name: name, value: value, reason: "must be finite and positive")
        }
        guard c.window < c.duration else {
            throw .invalidParameter(name: "window", value: c.window, reason: "the scoring window must be shorter than the run (\(c.duration) ms)")
        }
        self.configuration = c
        excitatoryWeights = (0..<c.groups).map { g in
            c.excitatoryWeight * (1 + 0.8 * cos(2 * Double.pi * (Double(g) - Double(c.groups) / 2) / Double(c.groups)))
        }
    }

    public var name: String { "istdp" }
    public var parameterNames: [String] { Array(PlasticSpikingNeuron.parameterNames.prefix(4)) }
    /// Vogels' rule at this task's target rate.
    public var vogelsRule: [Double] { PlasticSpikingNeuron.vogelsRule(targetRate: configuration.targetRate) }

    /// The origin (no plasticity), whatever the seed.
    public func initialParameters(seed: UInt64) -> [Double] { [0, 0, 0, 0] }

    /// The input spikes of one run: merged over the 2G trains, strictly increasing.
    public func inputs(seed: UInt64, stream: UInt64) -> (times: [Double], channels: [Int32]) {
        let c = configuration
        var generator = SeededGenerator(seed: seed, stream: 0x15_7D9, stream)
        var spikes: [(time: Double, channel: Int32)] = []
        let bins = Int((c.duration / c.modulationBin).rounded(.up))
        for g in 0..<c.groups {
            for bin in 0..<bins {
                let modulation = -log(1 - generator.nextUnitInterval())
                let start = Double(bin) * c.modulationBin, end = min(c.duration, start + c.modulationBin)
                for (channel, rate) in [(g, c.excitatoryRate), (c.groups + g, c.inhibitoryRate)] {
                    let perMillisecond = rate * modulation * 1e-3
                    guard perMillisecond > 0 else { continue }
                    var t = start - log(1 - generator.nextUnitInterval()) / perMillisecond
                    while t < end {
                        spikes.append((t, Int32(channel)))
                        t -= log(1 - generator.nextUnitInterval()) / perMillisecond
                    }
                }
            }
        }
        spikes.sort { $0.time < $1.time || ($0.time == $1.time && $0.channel < $1.channel) }
        // Coincident spikes (probability 0 in exact arithmetic) are 1 ns apart: each is its own event.
        var times = spikes.map(\.time)
        for k in times.indices.dropFirst() where times[k] <= times[k - 1] { times[k] = times[k - 1] + 1e-6 }
        return (times, spikes.map(\.channel))
    }

    /// The inner run on the inputs of `stream` (0: training, 1: held out).
    public func task(seed: UInt64, stream: UInt64) throws -> TrainingTask<PlasticSpikingNeuron, DormandPrince, BalancedRateLoss> {
        let c = configuration
        let input = inputs(seed: seed, stream: stream)
        let neuron = try PlasticSpikingNeuron(
            excitatoryWeights: excitatoryWeights, inputTimes: input.times, inputChannels: input.channels,
            initialWeights: [Double](repeating: c.initialInhibitoryWeight, count: c.groups), windowStart: c.duration - c.window,
            rule: [0, 0, 0, 0], eta: c.eta)
        return try TrainingTask(
            name: name, system: neuron, timeSpan: (0, c.duration),
            integrator: DormandPrince(relativeTolerance: c.tolerance, absoluteTolerance: c.tolerance),
            loss: BalancedRateLoss(neuron: neuron, targetRate: c.targetRate, time: c.duration), trainingIndices: [0, 1, 2, 3])
    }

    /// The training inputs, the same every iteration.
    public func task(iteration: Int, seed: UInt64) throws -> TrainingTask<PlasticSpikingNeuron, DormandPrince, BalancedRateLoss> {
        try task(seed: seed, stream: 0)
    }

    public var testMetric: TestMetric? { TestMetric(name: "heldout_loss", higherIsBetter: false) }
    /// The meta-loss of θ on held-out input trains.
    public func evaluateTestMetric(at theta: [Double], seed: UInt64) throws -> Double {
        try task(seed: seed, stream: 1).loss(at: theta)
    }
    /// Solved when the held-out meta-loss is below 0.1 (rate within ~30 % of ρ₀ and a balanced profile).
    public var target: TrainingTarget { TrainingTarget(quantity: .testMetric, threshold: 0.1, higherIsBetter: false) }

    public var defaults: TrainingDefaults {
        TrainingDefaults(
            optimizer: .adam(Adam(learningRate: configuration.learningRate)), iterations: configuration.iterations,
            evaluationInterval: 5, samples: configuration.samples, sigma: configuration.sigma)
    }

    /// The distance of a rule (α, β, κ, γ) to Vogels' up to a positive factor:
    /// min_{c > 0} ‖c·θ − θ_V‖/‖θ_V‖, which is √(1 − cos²) of their angle when the cosine is
    /// positive and 1 otherwise. 0 is Vogels' rule (any η).
    public func distanceToVogels(_ rule: [Double]) -> Double {
        let vogels = vogelsRule
        let dot = zip(rule, vogels).reduce(0) { $0 + $1.0 * $1.1 }
        let norm = rule.prefix(4).reduce(0) { $0 + $1 * $1 }
        guard norm > 0, dot > 0 else { return 1 }
        let factor = dot / norm
        let residual = zip(rule, vogels).reduce(0) { $0 + ($1.1 - factor * $1.0) * ($1.1 - factor * $1.0) }
        return (residual / vogels.reduce(0) { $0 + $1 * $1 }).squareRoot()
    }

    /// The paper's plot (Vogels et al. 2011, Fig. 1): Δw/η for one pre–post pair against the delay
    /// Δt = t_post − t_pre, −100 … 100 ms, for Vogels' rule and each labelled rule
    /// (``PlasticSpikingNeuron/pairWeightChange(delay:rule:preTimeConstant:postTimeConstant:)``).
    public func learningWindows(_ rules: [(label: String, rule: [Double])]) -> (delays: [Double], curves: [(label: String, values: [Double])]) {
        let delays = (0...200).map { Double($0 - 100) }
        let curves = ([("vogels", vogelsRule)] + rules).map { label, rule in
            (label, delays.map { PlasticSpikingNeuron.pairWeightChange(delay: $0, rule: rule) })
        }
        return (delays, curves)
    }

    /// What `compare istdp` adds to its output, from every run's learned rule (run r trained on
    /// the inputs of seed `seed` + r): `learning-window.csv` (``learningWindows(_:)``), `rules.csv`
    /// (each rule, its distance to Vogels', and its meta-loss on that run's training inputs and on
    /// held-out ones, NaN where the inner run fails), a text table, with Vogels' rule on the
    /// inputs of `seed` as the reference row, and the windows themselves for a plot.
    public func report(_ runs: [(method: String, run: Int, rule: [Double])], seed: UInt64)
        -> (files: [(name: String, text: String)], text: String, windows: (delays: [Double], curves: [(label: String, values: [Double])])) {
        let windows = learningWindows(runs.map { ("\($0.method)-run\($0.run)", $0.rule) })
        var window = "delay_ms," + windows.curves.map(\.label).joined(separator: ",") + "\n"
        for (k, delay) in windows.delays.enumerated() {
            window += "\(delay)," + windows.curves.map { "\($0.values[k])" }.joined(separator: ",") + "\n"
        }
        func loss(_ rule: [Double], run: Int, stream: UInt64) -> Double {
            (try? task(seed: seed &+ UInt64(max(0, run)), stream: stream).loss(at: rule)) ?? .nan
        }
        let rows = [("vogels", -1, vogelsRule)] + runs.map { ($0.method, $0.run, $0.rule) }
        var rules = "method,run,vogels_distance,meta_loss,heldout_loss," + parameterNames.joined(separator: ",") + "\n"
        var lines = ["istdp: learned rules (Δw = η(alpha + kappa·y) per pre spike, η(beta + gamma·x) per post spike; Vogels: distance 0)",
                     "method          run  meta-loss  heldout  vogels_distance  alpha    beta     kappa    gamma"]
        for (method, run, rule) in rows {
            let (train, heldout) = (loss(rule, run: run, stream: 0), loss(rule, run: run, stream: 1))
            rules += "\(method),\(run),\(distanceToVogels(rule)),\(train),\(heldout)," + rule.map { "\($0)" }.joined(separator: ",") + "\n"
            lines.append(
                method.padding(toLength: 15, withPad: " ", startingAt: 0) + (run < 0 ? "    –" : String(format: "%5d", run))
                    + String(format: "  %9.4f  %7.4f  %15.3f  ", train, heldout, distanceToVogels(rule))
                    + rule.map { String(format: "%+.3f", $0) }.joined(separator: "   "))
        }
        return ([("learning-window.csv", window), ("rules.csv", rules)], lines.joined(separator: "\n"), windows)
    }
}
