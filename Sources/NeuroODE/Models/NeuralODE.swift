import CKernels
import Foundation

/// A neural ODE (SCIENCE.md "Models"): dy/dt = s ⊙ MLP(g(y)), a multilayer perceptron applied to a fixed
/// input map g of the state, its output scaled per component by s.
///
/// Layer l (1-based) computes z_l = W_l a_{l−1} + b_l with a₀ = g(y); hidden layers apply the
/// activation, a_l = σ(z_l), and the last layer is linear unless `finalActivation` is set. The
/// parameter vector holds every layer's weights (out × in, row-major) followed by its biases,
/// layer by layer, named `W1[i,j]`, `b1[i]`, … so that optimizers and gradient methods see one
/// flat vector.
///
/// The Jacobian and the pullback are written out by hand (the chain rule through the layers), and
/// like the right-hand side they allocate nothing on the heap: the forward pass keeps its
/// pre-activations and activations in temporary stack buffers sized from the layer widths. A `NeuralODE` is a
/// value shared across threads (ES evaluates many perturbed parameter vectors concurrently), so
/// it owns no mutable scratch.
public struct NeuralODE: ODESystem, JacobianProviding, VectorJacobianProviding {
    /// The hidden-layer nonlinearity.
    public enum Activation: String, Sendable, CaseIterable {
        /// The hyperbolic tangent.
        case tanh
        /// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)) (not the tanh approximation).
        case gelu
    }

    /// The fixed map g applied to the state before the network.
    public enum InputMap: String, Sendable, CaseIterable {
        /// g(y) = y: the network sees the state itself.
        case identity
        /// g(y) = y³ componentwise: the spiral task's truth is cubic in y, so the network only
        /// has to learn a linear map.
        case cube
    }

    /// Layer widths from input to output; the first and last equal the state dimension.
    public let layerSizes: [Int]
    /// The nonlinearity after every hidden layer (and the output layer if `finalActivation`).
    public let activation: Activation
    /// The fixed map g applied to the state before the first layer.
    public let inputMap: InputMap
    /// The per-component output scale s (ones when none was given).
    public let outputScale: [Double]
    /// Whether the output layer applies the activation too (otherwise it is linear).
    public let finalActivation: Bool
    public let parameterNames: [String]
    /// ``initialParameters(seed:)`` with seed 0.
    public let defaultParameters: [Double]
    /// Offset of layer l's weights in the parameter vector (0-based l); its biases follow them.
    let weightOffsets: [Int]
    /// Offset of layer l's pre-activations (and activations) in the forward-pass scratch.
    let activationOffsets: [Int]
    private let widest: Int

    /// - Parameters:
    ///   - layerSizes: widths from input to output; the first and last are the state dimension,
    ///     and there are at least two entries, all positive.
    ///   - activation: the nonlinearity after every hidden layer.
    ///   - inputMap: g in dy/dt = MLP(g(y)), applied to the state before the first layer.
    ///   - outputScale: one factor per state component, or `nil` for none.
    ///   - finalActivation: apply the activation to the output layer as well.
    public init(
        layerSizes: [Int], activation: Activation, inputMap: InputMap = .identity,
        outputScale: [Double]? = nil, finalActivation: Bool = false
    ) {
        precondition(layerSizes.count >= 2 && layerSizes.allSatisfy { $0 > 0 }, "layer sizes must be ≥ 2 positive widths")
        precondition(layerSizes.first == layerSizes.last, "the first and last layer must both be the state dimension")
        precondition(outputScale.map { $0.count == layerSizes[0] } ?? true, "one output scale per state component")
        self.layerSizes = layerSizes
        self.activation = activation
        self.inputMap = inputMap
        self.outputScale = outputScale ?? Array(repeating: 1, count: layerSizes[0])
        self.finalActivation = finalActivation
        var names: [String] = []
        var weightOffsets: [Int] = []
        var activationOffsets: [Int] = []
        var activationCount = 0
        for l in 1..<layerSizes.count {
            let fanIn = layerSizes[l - 1], fanOut = layerSizes[l]
            weightOffsets.append(names.count)
            activationOffsets.append(activationCount)
            activationCount += fanOut
            for i in 0..<fanOut { for j in 0..<fanIn { names.append("W\(l)[\(i),\(j)]") } }
            for i in 0..<fanOut { names.append("b\(l)[\(i)]") }
        }
        parameterNames = names
        self.weightOffsets = weightOffsets
        self.activationOffsets = activationOffsets
        widest = layerSizes.max()!
        defaultParameters = Self.initialParameters(layerSizes: layerSizes, seed: 0)
    }

    public var name: String { "neural-ode" }
    public var dimension: Int { layerSizes[0] }
    /// The origin; neural-ODE tasks always give their own initial state.
    public var defaultInitialState: [Double] { Array(repeating: 0, count: dimension) }
    var layerCount: Int { layerSizes.count - 1 }
    /// Number of pre-activations stored by a forward pass (all layers after the input).
    var activationCount: Int { activationOffsets[layerCount - 1] + layerSizes[layerCount] }

    /// Weights and biases drawn uniformly from ±1/√fan_in (the PyTorch `Linear` default), from a
    /// SplitMix64 stream seeded with `seed`: the same seed gives the same vector on every platform.
    public func initialParameters(seed: UInt64) -> [Double] {
        Self.initialParameters(layerSizes: layerSizes, seed: seed)
    }

    private static func initialParameters(layerSizes: [Int], seed: UInt64) -> [Double] {
        var generator = SplitMix64(seed: seed)
        var parameters: [Double] = []
        for l in 1..<layerSizes.count {
            let bound = 1 / Double(layerSizes[l - 1]).squareRoot()
            for _ in 0..<(layerSizes[l] * (layerSizes[l - 1] + 1)) {
                parameters.append(bound * (2 * generator.nextUnitInterval() - 1))
            }
        }
        return parameters
    }

    // MARK: Right-hand side

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * widest) { scratch in
            var input = UnsafeMutableBufferPointer(rebasing: scratch[0..<widest])
            var output = UnsafeMutableBufferPointer(rebasing: scratch[widest..<(2 * widest)])
            for j in 0..<dimension { input[j] = mapInput(y[j]) }
            for l in 0..<layerCount {
                let activated = l < layerCount - 1 || finalActivation
                affine(l, p, input, into: output)
                if activated { activate(UnsafeMutablePointer(output.baseAddress!), count: layerSizes[l + 1]) }
                swap(&input, &output)
            }
            for i in 0..<dimension { dydt[i] = outputScale[i] * input[i] }
        }
    }

    // MARK: Derivatives

    /// ∂f/∂y = diag(s) D_L W_L ⋯ D₁ W₁ diag(g′(y)), with D_l = diag(σ′(z_l)) (D_L = I for a linear
    /// output layer), formed from the right: a (width × dimension) sensitivity matrix is carried
    /// through the layers, so the cost is that of `dimension` forward passes.
    public func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        let n = dimension
        withForwardPass(y, p) { z, a, _ in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * widest * n) { scratch in
                // sensitivity[i + k·width] = ∂(output i of the layer)/∂y_k, column-major like the result.
                var current = UnsafeMutableBufferPointer(rebasing: scratch[0..<(widest * n)])
                var next = UnsafeMutableBufferPointer(rebasing: scratch[(widest * n)..<(2 * widest * n)])
                for l in 0..<layerCount {
                    let fanIn = layerSizes[l], fanOut = layerSizes[l + 1]
                    let weights = weightOffsets[l], offset = activationOffsets[l]
                    let activated = l < layerCount - 1 || finalActivation
                    for i in 0..<fanOut {
                        let slope = activated ? activationDerivative(z[offset + i], a[offset + i]) : 1
                        let row = weights + i * fanIn
                        for k in 0..<n {
                            var sum: Double
                            if l == 0 {
                                sum = p[row + k] * inputDerivative(y[k])  // W₁ diag(g′(y))
                            } else {
                                sum = 0
                                for j in 0..<fanIn { sum += p[row + j] * current[j + k * fanIn] }
                            }
                            next[i + k * fanOut] = slope * sum
                        }
                    }
                    swap(&current, &next)
                }
                for k in 0..<n { for i in 0..<n { jacobian[i + k * n] = outputScale[i] * current[i + k * n] } }
            }
        }
    }

    /// Reverse-mode chain rule: δ_L = s ⊙ λ (⊙ σ′(z_L)), then per layer ∂b_l += δ_l,
    /// ∂W_l += δ_l a_{l−1}ᵀ and δ_{l−1} = (W_lᵀ δ_l) ⊙ σ′(z_{l−1}); finally ∂y += (W₁ᵀ δ₁) ⊙ g′(y).
    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        let n = dimension
        withForwardPass(y, p) { z, a, input in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * widest) { scratch in
                var delta = UnsafeMutableBufferPointer(rebasing: scratch[0..<widest])
                var upstream = UnsafeMutableBufferPointer(rebasing: scratch[widest..<(2 * widest)])
                let last = layerCount - 1
                for i in 0..<n {
                    delta[i] = outputScale[i] * lambda[i]
                    if finalActivation {
                        let k = activationOffsets[last] + i
                        delta[i] *= activationDerivative(z[k], a[k])
                    }
                }
                for l in stride(from: last, through: 0, by: -1) {
                    let fanIn = layerSizes[l], fanOut = layerSizes[l + 1]
                    let weights = weightOffsets[l], biases = weights + fanOut * fanIn
                    for j in 0..<fanIn { upstream[j] = 0 }
                    for i in 0..<fanOut {
                        let d = delta[i]
                        parameterCotangent[biases + i] += d
                        let row = weights + i * fanIn
                        // a_{l−1}: the mapped input for the first layer, else σ(z_{l−1}).
                        let previous = l == 0 ? input : UnsafeBufferPointer(rebasing: a[activationOffsets[l - 1]...])
                        for j in 0..<fanIn {
                            parameterCotangent[row + j] += d * previous[j]
                            upstream[j] += p[row + j] * d
                        }
                    }
                    if l > 0 {
                        let offset = activationOffsets[l - 1]
                        for j in 0..<fanIn { upstream[j] *= activationDerivative(z[offset + j], a[offset + j]) }
                    }
                    swap(&delta, &upstream)
                }
                for k in 0..<n { stateCotangent[k] += delta[k] * inputDerivative(y[k]) }
            }
        }
    }

    // MARK: Building blocks

    /// Runs the network once, keeping every layer's pre-activation z_l and activation σ(z_l)
    /// (laid out by ``activationOffsets``), and hands them and the mapped input g(y) to `body`.
    private func withForwardPass<R>(
        _ y: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>,
        _ body: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>) -> R
    ) -> R {
        let count = activationCount
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * count + dimension) { scratch in
            let z = UnsafeMutableBufferPointer(rebasing: scratch[0..<count])
            let a = UnsafeMutableBufferPointer(rebasing: scratch[count..<(2 * count)])
            let input = UnsafeMutableBufferPointer(rebasing: scratch[(2 * count)...])
            for j in 0..<dimension { input[j] = mapInput(y[j]) }
            for l in 0..<layerCount {
                let range = activationOffsets[l]..<(activationOffsets[l] + layerSizes[l + 1])
                let previous = l == 0 ? input : UnsafeMutableBufferPointer(rebasing: a[activationOffsets[l - 1]...])
                affine(l, p, previous, into: UnsafeMutableBufferPointer(rebasing: z[range]))
                activate(z.baseAddress! + range.lowerBound, into: a.baseAddress! + range.lowerBound, count: range.count)
            }
            return body(UnsafeBufferPointer(z), UnsafeBufferPointer(a), UnsafeBufferPointer(input))
        }
    }

    /// z = W_l a + b_l for layer l (0-based).
    @inline(__always)
    private func affine(
        _ l: Int, _ p: UnsafeBufferPointer<Double>, _ a: UnsafeMutableBufferPointer<Double>,
        into z: UnsafeMutableBufferPointer<Double>
    ) {
        let fanIn = layerSizes[l], fanOut = layerSizes[l + 1]
        let weights = weightOffsets[l], biases = weights + fanOut * fanIn
        for i in 0..<fanOut {
            var sum = p[biases + i]
            let row = weights + i * fanIn
            for j in 0..<fanIn { sum += p[row + j] * a[j] }
            z[i] = sum
        }
    }

    @inline(__always)
    func mapInput(_ x: Double) -> Double {
        switch inputMap {
        case .identity: x
        case .cube: x * x * x
        }
    }

    @inline(__always)
    func inputDerivative(_ x: Double) -> Double {
        switch inputMap {
        case .identity: 1
        case .cube: 3 * x * x
        }
    }

    /// σ applied to `count` pre-activations (in place when `out` is `z`): tanh through the
    /// vectorised kernel (NeuroODEKernels.h), GELU through erf.
    @inline(__always)
    func activate(_ z: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>? = nil, count: Int) {
        let out = out ?? z
        switch activation {
        case .tanh:
            nk_tanh_f64(z, out, count)
        case .gelu:
            for k in 0..<count { out[k] = 0.5 * z[k] * (1 + erf(z[k] * 0.5.squareRoot())) }
        }
    }

    /// σ′ at z, given a = σ(z): 1 − a² for tanh; Φ(z) + z·φ(z) for GELU.
    @inline(__always)
    func activationDerivative(_ z: Double, _ a: Double) -> Double {
        switch activation {
        case .tanh:
            return 1 - a * a
        case .gelu:
            let density = exp(-0.5 * z * z) / (2 * Double.pi).squareRoot()
            return 0.5 * (1 + erf(z * 0.5.squareRoot())) + z * density
        }
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, well-mixed generator whose stream depends only on
/// the seed, used for reproducible initial weights.
private struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
