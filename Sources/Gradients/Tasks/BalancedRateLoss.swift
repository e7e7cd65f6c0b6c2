import NeuroODE

/// The inhibitory-STDP benchmark's meta-loss (README "Plastic networks"; docs/SCIENCE.md
/// "Plasticity rule families"), read from a ``PlasticSpikingNeuron``'s scoring accumulators at the
/// end T of the inner run, over the scoring window [T₀, T] of length W:
///
///     Φ = ((ρ̂ − ρ₀)/ρ₀)² + B,    ρ̂ = R/W,
///     B = (1/G) Σ_g (w̄_g/⟨w̄⟩ − w_E,g/⟨w_E⟩)²,    w̄_g = Z_g/W,
///
/// ρ̂ the postsynaptic rate (R = ∫r dt, the integral of the rate filter, counts each spike once up
/// to the filter's tail and is smooth in the spike times, where a spike count is piecewise
/// constant), ρ₀ the target rate, and B the E–I balance: the window-averaged inhibitory weights
/// w̄_g and the excitatory weights w_E,g, each normalised by its mean over the groups, should have
/// the same profile (inhibition tracking excitation per group, Vogels et al. 2011), whatever the
/// overall level. B is 0 exactly for w̄ ∝ w_E; flat inhibition scores the variance of the
/// normalised excitatory profile. When every inhibitory weight is 0 over the window (⟨w̄⟩ = 0) the
/// profile is undefined and Φ = +∞: such a rule fails like one whose inner run blows up (ES and
/// CMA-ES rank it worst, the gradient methods' loop skips the iteration).
public struct BalancedRateLoss: TaskLoss {
    /// ρ₀ (Hz).
    public let targetRate: Double
    /// w_E,g.
    public let excitatoryWeights: [Double]
    /// W = T − T₀ (ms).
    public let windowLength: Double
    /// The state indices of R and of Z₀ (Z_g follow).
    public let rateIntegralIndex: Int, weightIntegralIndex: Int
    /// The single observation time T.
    public let observationTimes: [Double]

    /// The loss of a neuron observed at `time`, scored over the last `windowLength` ms.
    public init(targetRate: Double, excitatoryWeights: [Double], windowLength: Double, rateIntegralIndex: Int, weightIntegralIndex: Int, time: Double) {
        self.targetRate = targetRate
        self.excitatoryWeights = excitatoryWeights
        self.windowLength = windowLength
        self.rateIntegralIndex = rateIntegralIndex
        self.weightIntegralIndex = weightIntegralIndex
        observationTimes = [time]
    }

    /// The loss for a ``PlasticSpikingNeuron`` run to `time`.
    public init(neuron: PlasticSpikingNeuron, targetRate: Double, time: Double) {
        self.init(
            targetRate: targetRate, excitatoryWeights: neuron.excitatoryWeights, windowLength: time - neuron.windowStart,
            rateIntegralIndex: PlasticSpikingNeuron.rateIntegralIndex, weightIntegralIndex: neuron.weightIntegralIndex, time: time)
    }

    /// ρ̂ (Hz) and B of a final state.
    public func terms(_ state: [Double]) -> (rate: Double, balance: Double) {
        let groups = excitatoryWeights.count
        let mean = (0..<groups).reduce(0) { $0 + state[weightIntegralIndex + $1] } / Double(groups)
        let excitatoryMean = excitatoryWeights.reduce(0, +) / Double(groups)
        var balance = 0.0
        for g in 0..<groups {
            let d = state[weightIntegralIndex + g] / mean - excitatoryWeights[g] / excitatoryMean
            balance += d * d
        }
        return (1000 * state[rateIntegralIndex] / windowLength, mean > 0 ? balance / Double(groups) : .infinity)
    }

    public func valueAndGradient(integrals: [Double], observations y: [Double], parameters: [Double]) -> LossGradient {
        let groups = excitatoryWeights.count
        let (rate, balance) = terms(y)
        let relative = (rate - targetRate) / targetRate
        var gradient = [Double](repeating: 0, count: y.count)
        gradient[rateIntegralIndex] = 2 * relative / targetRate * 1000 / windowLength
        let value = relative * relative + balance
        guard balance.isFinite else { return LossGradient(value: value, integrals: [], observations: gradient, parameters: []) }
        // With m = ⟨Z⟩ and d_g = Z_g/m − v_g: ∂B/∂Z_k = (2/G)(d_k − Σ_g d_g Z_g/(G m))/m.
        let mean = (0..<groups).reduce(0) { $0 + y[weightIntegralIndex + $1] } / Double(groups)
        let excitatoryMean = excitatoryWeights.reduce(0, +) / Double(groups)
        var d = [Double](repeating: 0, count: groups)
        var weighted = 0.0
        for g in 0..<groups {
            d[g] = y[weightIntegralIndex + g] / mean - excitatoryWeights[g] / excitatoryMean
            weighted += d[g] * y[weightIntegralIndex + g]
        }
        for k in 0..<groups {
            gradient[weightIntegralIndex + k] = 2 / Double(groups) * (d[k] - weighted / (Double(groups) * mean)) / mean
        }
        return LossGradient(value: value, integrals: [], observations: gradient, parameters: [])
    }
}
