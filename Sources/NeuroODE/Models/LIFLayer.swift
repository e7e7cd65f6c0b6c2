import Foundation

/// A layer of N leaky integrate-and-fire neurons driven by M fixed input spike trains through
/// learnable weights (README "Gradients through events", the LIF spike-timing benchmark), which
/// records the times of each neuron's first K spikes in its own state.
///
///     τ dVⱼ/dt = EL − Vⱼ + Σᵢ Wⱼᵢ uᵢ(t),   uᵢ(t) = Σ_{s ∈ spikesᵢ, s < t} κ(t − s),
///     κ(x) = (x/τ_s) e^{1 − x/τ_s}  (an alpha kernel: continuous, peak 1 at x = τ_s)
///
/// with τ = 10 ms, EL = Vreset = −65 mV, Vth = −50 mV, τ_s = 5 ms; W in mV. Parameters are the
/// weights `W[j,i]` (row-major, N × M).
///
/// **State** [V (N) | c (N) | s (N × K)]: cⱼ counts neuron j's spikes and sⱼₖ holds the time of its
/// k-th spike, T (the horizon) until it happens. **Events:** event j fires when Vⱼ reaches Vth;
/// the reset sets Vⱼ = Vreset and, for the first K spikes, s_{j,cⱼ} = t and cⱼ += 1. Recording the
/// spike times in the state makes a spike-timing loss an ordinary observation of the state at T,
/// so the layer trains with every method through ``DifferentiableEventSystem`` (the reset's
/// ∂s/∂t = 1 carries the loss's dependence on the spike time) and forward-only ones alike.
public struct LIFLayer: EventSystem, DifferentiableEventSystem, VectorJacobianProviding {
    /// N.
    public let neurons: Int
    /// M = the number of input spike trains.
    public let inputs: Int
    /// K: spikes recorded per neuron.
    public let recordedSpikes: Int
    /// T (ms): the value of a spike-time register before its spike.
    public let horizon: Double
    /// Input spike times (ms) per channel, each sorted.
    public let inputSpikes: [[Double]]
    public let defaultParameters: [Double]

    /// Membrane time constant τ (ms), rest and reset EL = Vreset (mV), threshold Vth (mV) and
    /// synaptic time constant τ_s (ms).
    public static let membraneTimeConstant = 10.0, rest = -65.0, threshold = -50.0, synapticTimeConstant = 5.0

    /// A layer of `neurons` neurons reading `inputSpikes` (one sorted list per channel) through the
    /// weights `weights` (N × M, row-major, mV), recording `recordedSpikes` spikes per neuron, with
    /// unfired registers at `horizon`.
    public init(neurons: Int, inputSpikes: [[Double]], weights: [Double], recordedSpikes: Int, horizon: Double) throws(ODEError) {
        guard neurons >= 1, !inputSpikes.isEmpty, recordedSpikes >= 1 else {
            throw .invalidParameter(name: "neurons/inputs/recordedSpikes", value: Double(min(neurons, inputSpikes.count, recordedSpikes)), reason: "each must be at least 1")
        }
        guard weights.count == neurons * inputSpikes.count else {
            throw .dimensionMismatch(what: "weights of lif-layer", expected: neurons * inputSpikes.count, actual: weights.count)
        }
        for train in inputSpikes {
            guard zip(train, train.dropFirst()).allSatisfy({ $0 <= $1 }), train.allSatisfy(\.isFinite) else {
                throw .invalidParameter(name: "inputSpikes", value: train.first { !$0.isFinite } ?? .nan, reason: "each train must be finite and sorted")
            }
        }
        guard horizon.isFinite, horizon > 0 else { throw .invalidTimeSpan(start: 0, end: horizon, reason: "the horizon must be positive") }
        self.neurons = neurons
        inputs = inputSpikes.count
        self.inputSpikes = inputSpikes
        self.recordedSpikes = recordedSpikes
        self.horizon = horizon
        defaultParameters = weights
    }

    public var name: String { "lif-layer" }
    public var dimension: Int { neurons * (2 + recordedSpikes) }
    public var parameterNames: [String] {
        (0..<neurons).flatMap { j in (0..<inputs).map { i in "W[\(j),\(i)]" } }
    }
    public var stateNames: [String] {
        (0..<neurons).map { "V\($0)" } + (0..<neurons).map { "c\($0)" }
            + (0..<neurons).flatMap { j in (0..<recordedSpikes).map { "s\(j)_\($0)" } }
    }
    public var voltageIndices: [Int] { Array(0..<neurons) }
    /// At rest, no spikes counted, every register at T.
    public var defaultInitialState: [Double] {
        Array(repeating: Self.rest, count: neurons) + Array(repeating: 0, count: neurons)
            + Array(repeating: horizon, count: neurons * recordedSpikes)
    }

    /// The index of register sⱼₖ in the state.
    public func registerIndex(neuron j: Int, spike k: Int) -> Int { 2 * neurons + j * recordedSpikes + k }

    /// uᵢ(t), the alpha-filtered input of channel i.
    @inline(__always)
    func filteredInput(_ i: Int, at t: Double) -> Double {
        var sum = 0.0
        for s in inputSpikes[i] {
            guard s < t else { break }
            let x = (t - s) / Self.synapticTimeConstant
            sum += x * exp(1 - x)
        }
        return sum
    }

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters w: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        for j in 0..<neurons { dydt[j] = Self.rest - y[j] }
        for i in 0..<inputs {
            let u = filteredInput(i, at: t)
            guard u != 0 else { continue }
            for j in 0..<neurons { dydt[j] += w[j * inputs + i] * u }
        }
        for j in 0..<neurons { dydt[j] /= Self.membraneTimeConstant }
        for k in neurons..<dimension { dydt[k] = 0 }
    }

    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters w: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        let tau = Self.membraneTimeConstant
        for j in 0..<neurons { stateCotangent[j] -= lambda[j] / tau }
        for i in 0..<inputs {
            let u = filteredInput(i, at: t)
            guard u != 0 else { continue }
            for j in 0..<neurons { g[j * inputs + i] += lambda[j] * u / tau }
        }
    }

    // MARK: Events

    public var eventCount: Int { neurons }

    public func evaluateEventFunctions(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters w: UnsafeBufferPointer<Double>,
        into values: UnsafeMutableBufferPointer<Double>
    ) {
        for j in 0..<neurons { values[j] = y[j] - Self.threshold }
    }

    public func applyEvent(_ j: Int, at t: Double, state y: UnsafeMutableBufferPointer<Double>, parameters w: UnsafeBufferPointer<Double>) {
        y[j] = Self.rest
        let count = Int(y[neurons + j])
        if count < recordedSpikes { y[registerIndex(neuron: j, spike: count)] = t }
        y[neurons + j] += 1
    }

    /// Vⱼ and the written register are overwritten (by constants and by t); everything else passes.
    public func accumulateResetPullback(
        _ j: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters w: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        let count = Int(y[neurons + j])
        let written = count < recordedSpikes ? registerIndex(neuron: j, spike: count) : -1
        for k in 0..<dimension where k != j && k != written { stateCotangent[k] += lambda[k] }
        return written >= 0 ? lambda[written] : 0
    }

    public func eventFunctionGradient(
        _ j: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters w: UnsafeBufferPointer<Double>,
        stateGradient: UnsafeMutableBufferPointer<Double>, parameterGradient: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        stateGradient.initialize(repeating: 0)
        parameterGradient.initialize(repeating: 0)
        stateGradient[j] = 1
        return 0
    }
}

/// **Conductance form** (for the leapfrog): every state entry is a linear "compartment" with
/// C = τ. A membrane potential has G = 1 and E = EL + Σᵢ Wⱼᵢ uᵢ(t), the alpha-filtered inputs being
/// known functions of t; the counters and registers have G = E = 0, so they hold exactly between
/// resets (as LIF's refractory clock does, ``LeakyIntegrateAndFire``). No gates. So ``voltageCount``
/// is the whole dimension while ``voltageIndices`` lists only the membrane potentials.
extension LIFLayer: ConductanceBasedPullbacks {
    public var voltageCount: Int { dimension }

    public func capacitance(parameters: UnsafeBufferPointer<Double>) -> Double { Self.membraneTimeConstant }

    public func evaluateGateKinetics(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
    ) {}

    public func evaluateMembraneCoefficients(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters w: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
    ) {
        for j in 0..<neurons {
            conductance[j] = 1
            drive[j] = Self.rest
        }
        for k in neurons..<dimension {
            conductance[k] = 0
            drive[k] = 0
        }
        for i in 0..<inputs {
            let u = filteredInput(i, at: t)
            guard u != 0 else { continue }
            for j in 0..<neurons { drive[j] += w[j * inputs + i] * u }
        }
    }

    public func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {}

    /// Only E depends on θ: ∂Eⱼ/∂Wⱼᵢ = uᵢ(t).
    public func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters w: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent g: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        for i in 0..<inputs {
            let u = filteredInput(i, at: t)
            guard u != 0 else { continue }
            for j in 0..<neurons { g[j * inputs + i] += driveCotangent[j] * u }
        }
    }

    /// C = τ is a constant.
    public func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {}
}
