import Foundation

/// Adam (Kingma & Ba) with bias-corrected moments, and AdamW's decoupled weight decay
/// (Loshchilov & Hutter): θ ← θ − η·(m̂/(√v̂ + ε) + λ·θ). With λ = 0 it is plain Adam.
public struct Adam: Optimizer {
    /// η, the step size.
    public var learningRate: Double
    /// β₁, the decay of the first-moment (mean) estimate.
    public var beta1: Double
    /// β₂, the decay of the second-moment (uncentred variance) estimate.
    public var beta2: Double
    /// ε, added to √v̂ so that entries with vanishing gradients do not divide by zero.
    public var epsilon: Double
    /// Decoupled weight decay λ (AdamW); 0 for Adam.
    public var weightDecay: Double
    private var firstMoment: [Double] = []
    private var secondMoment: [Double] = []
    /// Updates applied to each entry: its bias correction's t. Entries skipped by a restricted
    /// update keep theirs, so a group updated every other iteration is corrected by its own count,
    /// as PyTorch's per-tensor step does.
    private var stepCounts: [Int] = []

    /// Adam (or AdamW when `weightDecay` > 0) with PyTorch's default hyperparameters.
    public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    /// AdamW with PyTorch's default decay 1e-2 unless given.
    public static func adamW(learningRate: Double = 1e-3, weightDecay: Double = 1e-2) -> Adam {
        Adam(learningRate: learningRate, weightDecay: weightDecay)
    }

    public var name: String { weightDecay == 0 ? "adam" : "adamw" }

    public mutating func update(_ parameters: inout [Double], gradient: [Double], entries: [Range<Int>]) {
        if firstMoment.count != parameters.count {
            firstMoment = Array(repeating: 0, count: parameters.count)
            secondMoment = firstMoment
            stepCounts = Array(repeating: 0, count: parameters.count)
        }
        var correctedStep = -1
        var correction1 = 1.0, correction2 = 1.0
        for range in entries {
            for i in range {
                stepCounts[i] += 1
                if stepCounts[i] != correctedStep {
                    correctedStep = stepCounts[i]
                    correction1 = 1 - pow(beta1, Double(correctedStep))
                    correction2 = 1 - pow(beta2, Double(correctedStep))
                }
                let g = gradient[i]
                firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g
                secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g
                let mHat = firstMoment[i] / correction1
                let vHat = secondMoment[i] / correction2
                parameters[i] -= learningRate * (mHat / (vHat.squareRoot() + epsilon) + weightDecay * parameters[i])
            }
        }
    }
}
