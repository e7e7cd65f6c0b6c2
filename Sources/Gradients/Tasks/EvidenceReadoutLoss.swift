import Foundation
import NeuroODE

/// The evidence-integration loss (SCIENCE.md "Evidence integration"): an affine readout of the network's
/// synaptic outputs, averaged over the last `window` ms, scored against each trial's label.
///
/// For a `MorrisLecarNetwork` of N neurons and B trials (state `[V | w]`, V neuron-major with
/// trials contiguous) the running integrands are r_ib = T(V_ib)·𝟙(t ≥ t_end − window), one per
/// neuron and trial in the state's order, so Q_ib = ∫ r_ib dt and Q/window is the mean output over
/// the window. The readout of trial b is y_b = W_out·Q_·b/window + b_out (C classes), and
///
///     cross-entropy (default):  Φ = (1/B) Σ_b [log Σ_c e^{y_cb} − y_{ℓ_b b}]
///     squared error (paper):    Φ = (1/B) Σ_b ‖y_b − e_{ℓ_b}‖²
///
/// with ℓ_b the label of trial b. W_out (C × N, row-major) and b_out (C) are the loss's own
/// trainable parameters, in that order.
///
/// The mean makes it a ``TrialSeparableLoss``: ``restricted(toTrials:)`` keeps the labels of a
/// trial range and the whole batch's divisor B (``averagedTrials``), so the parts' losses sum to Φ.
///
/// The window's start is compared with a tolerance of 1e-9 relative, so a step that lands on it
/// up to rounding of t₀ + n·Δt belongs to it whatever that rounding.
public struct EvidenceReadoutLoss: TrialSeparableLoss {
    /// The score of the readout against the label.
    public enum Objective: String, Sendable, CaseIterable {
        /// Softmax cross-entropy of the readout against the label (the default).
        case crossEntropy = "cross-entropy"
        /// L2 distance to the one-hot label, as the paper states.
        case squaredError = "l2"
    }

    /// N, the neurons whose synaptic outputs the readout averages.
    public let neurons: Int
    /// C, the number of classes (3 for the evidence task).
    public let classes: Int
    /// One label in `0..<classes` per trial; their count is the batch size B.
    public let labels: [Int]
    /// t_end, the end of the simulated span (ms).
    public let endTime: Double
    /// The averaging window at the end of the span (ms).
    public let window: Double
    /// T(V), the output function averaged over the window; it should match the network's.
    public let synapse: SynapticOutput
    /// Cross-entropy (default) or squared error.
    public let objective: Objective
    /// The divisor of the mean over trials: B, or the whole batch's B for a part made by
    /// ``restricted(toTrials:)``.
    public private(set) var averagedTrials: Int

    /// The loss of a batch with one label per trial.
    ///
    /// - Throws: `ODEError` for non-positive `neurons` or `classes`, no labels, a label outside
    ///   `0..<classes`, a non-finite `endTime`, or a window (ms) that is not finite and positive.
    public init(
        neurons: Int, labels: [Int], endTime: Double, window: Double = 10, classes: Int = 3,
        synapse: SynapticOutput = .authorsNetwork, objective: Objective = .crossEntropy
    ) throws(ODEError) {
        guard neurons > 0 else { throw .dimensionMismatch(what: "readout neuron count", expected: 1, actual: neurons) }
        guard classes > 0 else { throw .dimensionMismatch(what: "readout class count", expected: 1, actual: classes) }
        guard !labels.isEmpty else { throw .dimensionMismatch(what: "labels (one per trial)", expected: 1, actual: 0) }
        for label in labels where !(0..<classes).contains(label) {
            throw .dimensionMismatch(what: "label (number of classes)", expected: classes, actual: label)
        }
        guard endTime.isFinite else {
            throw .invalidParameter(name: "endTime", value: endTime, reason: "must be finite")
        }
        guard window.isFinite, window > 0 else {
            throw .invalidParameter(name: "window", value: window, reason: "must be finite and positive")
        }
        self.neurons = neurons
        self.classes = classes
        self.labels = labels
        self.endTime = endTime
        self.window = window
        self.synapse = synapse
        self.objective = objective
        self.averagedTrials = labels.count
    }

    /// B, the number of trials.
    public var batchSize: Int { labels.count }
    public var trialCount: Int { batchSize }

    /// The loss of trials `range` alone, over the N × `range.count` states of the network part
    /// that simulates them; it still divides by the whole batch's B.
    public func restricted(toTrials range: Range<Int>) throws(ODEError) -> EvidenceReadoutLoss {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= batchSize else {
            throw .dimensionMismatch(what: "trial range end (batch size)", expected: batchSize, actual: range.upperBound)
        }
        var part = try EvidenceReadoutLoss(
            neurons: neurons, labels: Array(labels[range]), endTime: endTime, window: window, classes: classes,
            synapse: synapse, objective: objective)
        part.averagedTrials = averagedTrials
        return part
    }

    private var windowStart: Double { endTime - window }

    private func inWindow(_ t: Double) -> Bool {
        t >= windowStart - 1e-9 * max(1, abs(windowStart))
    }

    // MARK: Running integrands

    public var integrandCount: Int { neurons * batchSize }

    /// The window's start, less the tolerance of `inWindow`: r is zero before it.
    public var integrandsActiveFrom: Double { windowStart - 1e-9 * max(1, abs(windowStart)) }

    public func evaluateIntegrands(at t: Double, state: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        guard inWindow(t) else {
            values.update(repeating: 0)
            return
        }
        for j in 0..<integrandCount { values[j] = synapse.value(state[j]) }
    }

    public func accumulateIntegrandPullback(
        at t: Double, state: UnsafeBufferPointer<Double>, cotangent: UnsafeBufferPointer<Double>,
        into stateCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        guard inWindow(t) else { return }
        for j in 0..<integrandCount { stateCotangent[j] += cotangent[j] * synapse.derivative(state[j]) }
    }

    // MARK: Parameters

    public var parameterNames: [String] {
        (0..<classes).flatMap { c in (0..<neurons).map { "W_out[\(c),\($0)]" } } + (0..<classes).map { "b_out[\($0)]" }
    }

    /// SCIENCE.md's initialisation: W_out ~ U(0.1 ± 1/√N) from stream 3 of `seed` (the network's weights
    /// use streams 0–2), b_out = 0.
    public func seededParameters(seed: UInt64) -> [Double] {
        let halfWidth = 1 / Double(neurons).squareRoot()
        var generator = SeededGenerator(seed: seed, stream: 3)
        let weights = (0..<(classes * neurons)).map { _ in generator.nextUniform(in: (0.1 - halfWidth)..<(0.1 + halfWidth)) }
        return weights + [Double](repeating: 0, count: classes)
    }

    // MARK: Readout

    /// The readouts y = W_out·Q/window + b_out of every trial, C × B row-major.
    public func readout(integrals: [Double], parameters: [Double]) throws(ODEError) -> [Double] {
        try checkCounts(integrals: integrals, parameters: parameters)
        return readoutUnchecked(integrals, parameters)
    }

    /// The fraction of trials whose largest readout is their label's.
    public func accuracy(of integrals: [Double], parameters: [Double]) throws(ODEError) -> Double {
        let y = try readout(integrals: integrals, parameters: parameters)
        let b = batchSize
        var correct = 0
        for trial in 0..<b {
            var best = 0
            for c in 1..<classes where y[c * b + trial] > y[best * b + trial] { best = c }
            if best == labels[trial] { correct += 1 }
        }
        return Double(correct) / Double(b)
    }

    private func checkCounts(integrals: [Double], parameters: [Double]) throws(ODEError) {
        guard integrals.count == integrandCount else {
            throw .dimensionMismatch(what: "readout integrals (N × B)", expected: integrandCount, actual: integrals.count)
        }
        guard parameters.count == classes * (neurons + 1) else {
            throw .dimensionMismatch(what: "readout parameters (W_out, b_out)", expected: classes * (neurons + 1), actual: parameters.count)
        }
    }

    private func readoutUnchecked(_ q: [Double], _ theta: [Double]) -> [Double] {
        let b = batchSize, scale = 1 / window
        var y = [Double](repeating: 0, count: classes * b)
        for c in 0..<classes {
            let offset = theta[classes * neurons + c]
            for trial in 0..<b { y[c * b + trial] = offset }
            for i in 0..<neurons {
                let weight = theta[c * neurons + i] * scale
                for trial in 0..<b { y[c * b + trial] += weight * q[i * b + trial] }
            }
        }
        return y
    }

    // MARK: Loss

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        precondition(integrals.count == integrandCount && parameters.count == classes * (neurons + 1),
                     "EvidenceReadoutLoss: \(integrals.count) integrals and \(parameters.count) parameters for N = \(neurons), B = \(batchSize), C = \(classes)")
        let b = batchSize, scale = 1 / window, inverseBatch = 1 / Double(averagedTrials)
        let y = readoutUnchecked(integrals, parameters)
        // ȳ = ∂Φ/∂y, C × B.
        var yBar = [Double](repeating: 0, count: classes * b)
        var value = 0.0
        for trial in 0..<b {
            let label = labels[trial]
            switch objective {
            case .crossEntropy:
                var largest = -Double.infinity
                for c in 0..<classes { largest = max(largest, y[c * b + trial]) }
                var sum = 0.0
                for c in 0..<classes { sum += exp(y[c * b + trial] - largest) }
                value += largest + log(sum) - y[label * b + trial]
                for c in 0..<classes {
                    let probability = exp(y[c * b + trial] - largest) / sum
                    yBar[c * b + trial] = (probability - (c == label ? 1 : 0)) * inverseBatch
                }
            case .squaredError:
                for c in 0..<classes {
                    let residual = y[c * b + trial] - (c == label ? 1 : 0)
                    value += residual * residual
                    yBar[c * b + trial] = 2 * residual * inverseBatch
                }
            }
        }
        var integralsBar = [Double](repeating: 0, count: integrandCount)
        var parametersBar = [Double](repeating: 0, count: parameters.count)
        for c in 0..<classes {
            var offsetBar = 0.0
            for trial in 0..<b { offsetBar += yBar[c * b + trial] }
            parametersBar[classes * neurons + c] = offsetBar
            for i in 0..<neurons {
                let weight = parameters[c * neurons + i] * scale
                var weightBar = 0.0
                for trial in 0..<b {
                    let bar = yBar[c * b + trial]
                    integralsBar[i * b + trial] += weight * bar
                    weightBar += bar * integrals[i * b + trial]
                }
                parametersBar[c * neurons + i] = weightBar * scale
            }
        }
        return LossGradient(value: value * inverseBatch, integrals: integralsBar, observations: [], parameters: parametersBar)
    }
}
