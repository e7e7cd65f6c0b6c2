/// Stochastic gradient descent with optional heavy-ball momentum:
/// v ← μ·v + g, θ ← θ − η·v.
public struct GradientDescent: Optimizer {
    /// η, the step size.
    public var learningRate: Double
    /// μ, the heavy-ball momentum (0: plain gradient descent).
    public var momentum: Double
    private var velocity: [Double] = []

    /// Gradient descent with step `learningRate` and momentum μ = `momentum`.
    public init(learningRate: Double, momentum: Double = 0) {
        self.learningRate = learningRate
        self.momentum = momentum
    }

    public var name: String { "sgd" }

    public mutating func update(_ parameters: inout [Double], gradient: [Double], entries: [Range<Int>]) {
        if momentum == 0 {
            for range in entries { for i in range { parameters[i] -= learningRate * gradient[i] } }
            return
        }
        if velocity.count != parameters.count { velocity = Array(repeating: 0, count: parameters.count) }
        for range in entries {
            for i in range {
                velocity[i] = momentum * velocity[i] + gradient[i]
                parameters[i] -= learningRate * velocity[i]
            }
        }
    }
}
