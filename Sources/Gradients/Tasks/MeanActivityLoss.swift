import NeuroODE

/// The turn-off loss (SCIENCE.md "Tasks"): the time-averaged output of a neuron,
/// L = (1/τ) ∫₀^τ T(V(t)) dt, averaged over the watched voltages. L → 0 when the neuron is silent.
public struct MeanActivityLoss: TaskLoss {
    /// T(V), the output function averaged.
    public var output: SynapticOutput
    /// The state indices of the watched membrane potentials.
    public var voltageIndices: [Int]
    /// τ, the averaging horizon (ms).
    public var horizon: Double

    /// The mean of `output` over the potentials at `voltageIndices`, averaged over `horizon` ms.
    public init(output: SynapticOutput = .paper, voltageIndices: [Int] = [0], horizon: Double) {
        self.output = output
        self.voltageIndices = voltageIndices
        self.horizon = horizon
    }

    public var integrandCount: Int { 1 }

    public func evaluateIntegrands(at t: Double, state: UnsafeBufferPointer<Double>, into values: UnsafeMutableBufferPointer<Double>) {
        var sum = 0.0
        for v in voltageIndices { sum += output.value(state[v]) }
        values[0] = sum
    }

    public func accumulateIntegrandPullback(
        at t: Double, state: UnsafeBufferPointer<Double>, cotangent: UnsafeBufferPointer<Double>,
        into stateCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        for v in voltageIndices { stateCotangent[v] += cotangent[0] * output.derivative(state[v]) }
    }

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        let scale = 1 / (horizon * Double(voltageIndices.count))
        return LossGradient(value: integrals[0] * scale, integrals: [scale], observations: [], parameters: [])
    }
}
