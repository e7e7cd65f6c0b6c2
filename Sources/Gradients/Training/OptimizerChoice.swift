/// One of the library's optimizers behind a single concrete, `Codable` type, so that a training
/// loop chosen at run time (from a command line or a configuration file) still checkpoints its
/// optimizer's moments exactly.
public enum OptimizerChoice: Optimizer {
    case adam(Adam)
    case sgd(GradientDescent)
    case rmsprop(RMSprop)

    public var name: String {
        switch self {
        case let .adam(base): base.name
        case let .sgd(base): base.name
        case let .rmsprop(base): base.name
        }
    }

    public var learningRate: Double {
        get {
            switch self {
            case let .adam(base): base.learningRate
            case let .sgd(base): base.learningRate
            case let .rmsprop(base): base.learningRate
            }
        }
        set {
            switch self {
            case var .adam(base): base.learningRate = newValue; self = .adam(base)
            case var .sgd(base): base.learningRate = newValue; self = .sgd(base)
            case var .rmsprop(base): base.learningRate = newValue; self = .rmsprop(base)
            }
        }
    }

    public mutating func update(_ parameters: inout [Double], gradient: [Double], entries: [Range<Int>]) {
        switch self {
        case var .adam(base): base.update(&parameters, gradient: gradient, entries: entries); self = .adam(base)
        case var .sgd(base): base.update(&parameters, gradient: gradient, entries: entries); self = .sgd(base)
        case var .rmsprop(base): base.update(&parameters, gradient: gradient, entries: entries); self = .rmsprop(base)
        }
    }
}
