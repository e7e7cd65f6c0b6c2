import Testing
@testable import NeuroODE

/// The hand-written Jacobian and pullback of Morris–Lecar against central differences of its
/// right-hand side (an independent computation: only f itself is shared).
@Suite struct MorrisLecarDerivativeTests {
    func rhs(_ system: MorrisLecar, _ y: [Double], _ p: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: 2)
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { system.evaluateRightHandSide(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        return out
    }

    @Test(arguments: MorrisLecar.Preset.allCases)
    func jacobianMatchesCentralDifferences(preset: MorrisLecar.Preset) {
        let system = MorrisLecar(preset: preset)
        let p = system.defaultParameters
        for y in [[-41.84, 0.5282], [-20.0, 0.1], [15.0, 0.7]] {
            var jacobian = [Double](repeating: 0, count: 4)
            y.withUnsafeBufferPointer { yb in
                p.withUnsafeBufferPointer { pb in
                    jacobian.withUnsafeMutableBufferPointer { system.evaluateJacobian(at: 0, state: yb, parameters: pb, into: $0) }
                }
            }
            for j in 0..<2 {
                let h = 1e-6 * max(1, abs(y[j]))
                var up = y, down = y
                up[j] += h
                down[j] -= h
                let fu = rhs(system, up, p), fd = rhs(system, down, p)
                for i in 0..<2 {
                    let fdValue = (fu[i] - fd[i]) / (2 * h)
                    #expect(abs(jacobian[i + 2 * j] - fdValue) <= 1e-7 * max(1, abs(fdValue)), "J[\(i),\(j)] at \(y)")
                }
            }
        }
    }

    @Test func pullbackMatchesCentralDifferencesInParameters() {
        let system = MorrisLecar(preset: .hopf)
        let p = system.defaultParameters
        let y = [-30.0, 0.3], lambda = [0.7, -1.3]
        var stateCotangent = [0.0, 0.0]
        var parameterCotangent = [Double](repeating: 0, count: p.count)
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
        for k in 0..<p.count {
            let h = 1e-6 * max(1, abs(p[k]))
            var up = p, down = p
            up[k] += h
            down[k] -= h
            let fu = rhs(system, y, up), fd = rhs(system, y, down)
            let expected = (0..<2).reduce(0.0) { $0 + lambda[$1] * (fu[$1] - fd[$1]) / (2 * h) }
            #expect(abs(parameterCotangent[k] - expected) <= 1e-6 * max(1, abs(expected)), "\(system.parameterNames[k])")
        }
    }
}
