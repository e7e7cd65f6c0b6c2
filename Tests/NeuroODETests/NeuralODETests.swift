import Foundation
import Testing
@testable import NeuroODE

/// The neural-ODE right-hand side against a plain re-implementation, its hand-written Jacobian and
/// pullback against central differences, and the parameter layout and seeded initialisation.
@Suite struct NeuralODETests {
    struct Configuration: CustomTestStringConvertible, Sendable {
        let layers: [Int]
        let activation: NeuralODE.Activation
        let inputMap: NeuralODE.InputMap
        let scale: [Double]?
        let finalActivation: Bool
        var testDescription: String {
            "\(layers) \(activation) \(inputMap) scale=\(scale.map { "\($0)" } ?? "none") final=\(finalActivation)"
        }
        var system: NeuralODE {
            NeuralODE(layerSizes: layers, activation: activation, inputMap: inputMap, outputScale: scale, finalActivation: finalActivation)
        }
    }

    static let configurations: [Configuration] = {
        var list: [Configuration] = []
        for activation in NeuralODE.Activation.allCases {
            for inputMap in NeuralODE.InputMap.allCases {
                list.append(Configuration(layers: [2, 6, 2], activation: activation, inputMap: inputMap, scale: nil, finalActivation: false))
                list.append(Configuration(layers: [3, 5, 4, 3], activation: activation, inputMap: inputMap, scale: [0.5, -2, 3e-1], finalActivation: false))
                list.append(Configuration(layers: [3, 4, 3], activation: activation, inputMap: inputMap, scale: [1.5, 0.25, -1], finalActivation: true))
            }
        }
        return list
    }()

    static func rhs(_ system: NeuralODE, _ y: [Double], _ p: [Double]) -> [Double] {
        var out = [Double](repeating: .nan, count: system.dimension)
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { system.evaluateRightHandSide(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        return out
    }

    /// The network written the obvious way, with arrays: an independent check of the forward pass.
    static func naiveRHS(_ c: Configuration, _ y: [Double], _ p: [Double]) -> [Double] {
        func sigma(_ x: Double) -> Double {
            switch c.activation {
            case .tanh: tanh(x)
            case .gelu: x * 0.5 * erfc(-x / 2.0.squareRoot())  // x·Φ(x) via erfc
            }
        }
        var a = c.inputMap == .cube ? y.map { $0 * $0 * $0 } : y
        var offset = 0
        for l in 1..<c.layers.count {
            let fanIn = c.layers[l - 1], fanOut = c.layers[l]
            let W = Array(p[offset..<(offset + fanIn * fanOut)])
            let b = Array(p[(offset + fanIn * fanOut)..<(offset + fanIn * fanOut + fanOut)])
            offset += fanIn * fanOut + fanOut
            var z = b
            for i in 0..<fanOut { for j in 0..<fanIn { z[i] += W[i * fanIn + j] * a[j] } }
            a = (l < c.layers.count - 1 || c.finalActivation) ? z.map(sigma) : z
        }
        return zip(a, c.scale ?? Array(repeating: 1, count: a.count)).map { $0 * $1 }
    }

    static func state(for system: NeuralODE) -> [Double] {
        Array([0.7, -1.1, 0.4].prefix(system.dimension))
    }

    @Test(arguments: configurations)
    func rightHandSideMatchesPlainImplementation(_ c: Configuration) {
        let system = c.system
        let p = system.initialParameters(seed: 11)
        let y = Self.state(for: system)
        let expected = Self.naiveRHS(c, y, p)
        let actual = Self.rhs(system, y, p)
        for i in 0..<system.dimension {
            #expect(abs(actual[i] - expected[i]) <= 1e-14 * max(1, abs(expected[i])), "component \(i)")
        }
    }

    @Test(arguments: configurations)
    func jacobianMatchesCentralDifferences(_ c: Configuration) {
        let system = c.system
        let n = system.dimension
        let p = system.initialParameters(seed: 3)
        let y = Self.state(for: system)
        var jacobian = [Double](repeating: .nan, count: n * n)
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                jacobian.withUnsafeMutableBufferPointer { system.evaluateJacobian(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        for j in 0..<n {
            let h = 1e-6
            var up = y, down = y
            up[j] += h
            down[j] -= h
            let fu = Self.rhs(system, up, p), fd = Self.rhs(system, down, p)
            for i in 0..<n {
                let difference = (fu[i] - fd[i]) / (2 * h)
                #expect(abs(jacobian[i + j * n] - difference) <= 1e-8 * max(1, abs(difference)), "J[\(i),\(j)]")
            }
        }
    }

    @Test(arguments: configurations)
    func pullbackMatchesCentralDifferencesAndAccumulates(_ c: Configuration) {
        let system = c.system
        let n = system.dimension
        let p = system.initialParameters(seed: 5)
        let y = Self.state(for: system)
        let lambda = Array([0.3, -1.7, 0.9].prefix(n))
        // Non-zero starting values: the pullback must add to them, not overwrite.
        let stateStart = (0..<n).map { 0.1 * Double($0 + 1) }
        let parameterStart = (0..<p.count).map { 0.01 * Double($0 % 7) - 0.02 }
        var stateCotangent = stateStart, parameterCotangent = parameterStart
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                lambda.withUnsafeBufferPointer { lb in
                    stateCotangent.withUnsafeMutableBufferPointer { sc in
                        parameterCotangent.withUnsafeMutableBufferPointer { pc in
                            system.accumulatePullback(at: 0, state: yb, parameters: pb, cotangent: lb, stateCotangent: sc, parameterCotangent: pc)
                        }
                    }
                }
            }
        }
        func projected(_ f: [Double]) -> Double { zip(f, lambda).reduce(0) { $0 + $1.0 * $1.1 } }
        let h = 1e-6
        for k in 0..<n {
            var up = y, down = y
            up[k] += h
            down[k] -= h
            let expected = (projected(Self.rhs(system, up, p)) - projected(Self.rhs(system, down, p))) / (2 * h)
            let actual = stateCotangent[k] - stateStart[k]
            #expect(abs(actual - expected) <= 1e-8 * max(1, abs(expected)), "∂y[\(k)]")
        }
        for k in 0..<p.count {
            var up = p, down = p
            up[k] += h
            down[k] -= h
            let expected = (projected(Self.rhs(system, y, up)) - projected(Self.rhs(system, y, down))) / (2 * h)
            let actual = parameterCotangent[k] - parameterStart[k]
            #expect(abs(actual - expected) <= 1e-8 * max(1, abs(expected)), "\(system.parameterNames[k])")
        }
    }

    @Test func geluIsExact() {
        // x·Φ(x) at points where Φ is tabulated: Φ(1) = 0.8413447460685429, Φ(−2) = 0.022750131948179195.
        let system = NeuralODE(layerSizes: [1, 1, 1], activation: .gelu)
        // W1 = 1, b1 = 0, W2 = 1, b2 = 0: f(y) = gelu(y).
        let p = [1.0, 0, 1, 0]
        #expect(abs(Self.rhs(system, [1], p)[0] - 0.8413447460685429) <= 1e-15)
        #expect(abs(Self.rhs(system, [-2], p)[0] - (-2 * 0.022750131948179195)) <= 1e-15)
    }

    @Test func parameterLayoutAndNames() {
        let system = NeuralODE(layerSizes: [2, 50, 2], activation: .tanh, inputMap: .cube)
        #expect(system.parameterNames.count == 2 * 50 + 50 + 50 * 2 + 2)
        #expect(system.defaultParameters.count == system.parameterNames.count)
        #expect(system.parameterNames[0] == "W1[0,0]")
        #expect(system.parameterNames[1] == "W1[0,1]")
        #expect(system.parameterNames[2] == "W1[1,0]")
        #expect(system.parameterNames[100] == "b1[0]")
        #expect(system.parameterNames[150] == "W2[0,0]")
        #expect(system.parameterNames[151] == "W2[0,1]")
        #expect(system.parameterNames[250] == "b2[0]")
        #expect(system.parameterNames.last == "b2[1]")
        #expect(Set(system.parameterNames).count == system.parameterNames.count)
        #expect(system.name == "neural-ode")
        #expect(system.dimension == 2)
        // The ROBER model of SPEC: 3 → (5, GELU) × 6 → 3.
        let rober = NeuralODE(layerSizes: [3, 5, 5, 5, 5, 5, 5, 3], activation: .gelu, outputScale: [1, 2, 3])
        #expect(rober.parameterNames.count == (3 * 5 + 5) + 5 * (5 * 5 + 5) + (5 * 3 + 3))
    }

    @Test func seededInitialisationIsDeterministicAndBounded() {
        let system = NeuralODE(layerSizes: [2, 50, 2], activation: .tanh)
        let a = system.initialParameters(seed: 42), b = system.initialParameters(seed: 42)
        let c = system.initialParameters(seed: 43)
        #expect(a == b)
        #expect(a != c)
        #expect(system.defaultParameters == system.initialParameters(seed: 0))
        // SplitMix64's published first output for seed 0 is 0xE220A8397B1DCDAF; the first weight
        // is that draw mapped onto U(−1/√2, 1/√2).
        let first = Double(UInt64(0xE220_A839_7B1D_CDAF) >> 11) * 0x1p-53
        #expect(system.defaultParameters[0] == (2 * first - 1) / 2.0.squareRoot())
        // Bounds ±1/√fan_in: 1/√2 for layer 1 (150 entries), 1/√50 for layer 2 (102 entries).
        let layer1 = a[0..<150], layer2 = a[150...]
        #expect(layer1.allSatisfy { abs($0) <= 1 / 2.0.squareRoot() })
        #expect(layer2.allSatisfy { abs($0) <= 1 / 50.0.squareRoot() })
        // Spread over the whole interval, not a constant or a narrow band.
        #expect(layer1.max()! > 0.6 && layer1.min()! < -0.6)
        #expect(abs(layer1.reduce(0, +) / 150) < 0.15)
    }

    /// A neural ODE under dopri5: the adaptive solve agrees with a fine fixed-step solve.
    @Test func integratesWithDormandPrince() throws {
        let system = NeuralODE(layerSizes: [2, 16, 2], activation: .tanh, inputMap: .cube, outputScale: [1, 1])
        let problem = try ODEProblem(system: system, initialState: [2, 0], parameters: system.initialParameters(seed: 1), timeSpan: (0, 5))
        let adaptive = try DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-9).solve(problem, output: .finalState)
        let fine = try DormandPrince.fixedStep(1e-3).solve(problem, output: .finalState)
        for i in 0..<2 { #expect(abs(adaptive.finalState[i] - fine.finalState[i]) <= 1e-7) }
    }
}
