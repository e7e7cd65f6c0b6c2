/// The spike-timing loss of a model that records its spike times in its state (``LIFLayer``):
/// Φ = (1/K) Σₖ (y_{iₖ}(T) − targetₖ)² over chosen state entries iₖ (the spike-time registers) at
/// the end of the horizon T, in ms². A register whose spike never came still holds T, so, as with
/// ``SpikeTimingLoss``, a missing spike costs (T − target)², constant in θ.
public struct SpikeRegisterLoss: TaskLoss {
    /// The end of the horizon, where the registers are read.
    public let endTime: Double
    /// The state index of each register.
    public let registers: [Int]
    /// The target spike time (ms) of each register.
    public let targets: [Double]
    /// The state dimension.
    public let dimension: Int

    /// A loss reading `registers` of a `dimension`-dimensional state at `endTime` against `targets`.
    public init(endTime: Double, registers: [Int], targets: [Double], dimension: Int) throws(TrainingError) {
        guard !registers.isEmpty, registers.count == targets.count, registers.allSatisfy({ (0..<dimension).contains($0) }) else {
            throw .invalidOption(name: "registers", value: "\(registers)", reason: "need one target per register, each a state index")
        }
        guard targets.allSatisfy(\.isFinite) else { throw .invalidOption(name: "targets", value: "\(targets)", reason: "must be finite") }
        self.endTime = endTime
        self.registers = registers
        self.targets = targets
        self.dimension = dimension
    }

    public var observationTimes: [Double] { [endTime] }

    public func valueAndGradient(integrals: [Double], observations: [Double], parameters: [Double]) -> LossGradient {
        var value = 0.0
        var bar = [Double](repeating: 0, count: dimension)
        let k = Double(registers.count)
        for (index, target) in zip(registers, targets) {
            let error = observations[index] - target
            value += error * error / k
            bar[index] += 2 * error / k
        }
        return LossGradient(value: value, integrals: [], observations: bar, parameters: [])
    }
}
