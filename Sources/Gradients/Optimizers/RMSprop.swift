/// RMSprop (Hinton): v ← α·v + (1 − α)·g², θ ← θ − η·g/(√v + ε).
public struct RMSprop: Optimizer {
    /// η, the step size.
    public var learningRate: Double
    /// α, the decay of the running mean of g².
    public var decay: Double
    /// ε, added to √v against division by zero.
    public var epsilon: Double
    private var meanSquare: [Double] = []

    /// RMSprop with the given η, α and ε.
    public init(learningRate: Double = 1e-2, decay: Double = 0.99, epsilon: Double = 1e-8) {
        self.learningRate = learningRate
        self.decay = decay
        self.epsilon = epsilon
    }

    public var name: String { "rmsprop" }

    public mutating func update(_ parameters: inout [Double], gradient: [Double], entries: [Range<Int>]) {
        if meanSquare.count != parameters.count { meanSquare = Array(repeating: 0, count: parameters.count) }
        for range in entries {
            for i in range {
                let g = gradient[i]
                meanSquare[i] = decay * meanSquare[i] + (1 - decay) * g * g
                parameters[i] -= learningRate * g / (meanSquare[i].squareRoot() + epsilon)
            }
        }
    }
}
