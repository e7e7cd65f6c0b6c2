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

    public mutating func update(_ parameters: inout [Double], gradient: [Double]) {
        if momentum == 0 {
            for i in parameters.indices { parameters[i] -= learningRate * gradient[i] }
            return
        }
        if velocity.count != parameters.count { velocity = Array(repeating: 0, count: parameters.count) }
        for i in parameters.indices {
            velocity[i] = momentum * velocity[i] + gradient[i]
            parameters[i] -= learningRate * velocity[i]
        }
    }
}
