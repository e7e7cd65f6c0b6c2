import Testing
@testable import NeuroODE

/// Rober's analytic Jacobian and pullback against central differences of its right-hand side.
/// The right-hand side is quadratic, so central differences have no truncation error: any gap
/// beyond rounding is a wrong derivative.
@Suite struct RoberDerivativeTests {
    let system = Rober()
    /// States from the start of the reaction, its fast transient and its slow tail.
    let states: [[Double]] = [[1, 0, 0], [0.98, 3.4e-5, 0.0148], [0.45, 3.2e-6, 0.55], [7e-8, 2.8e-13, 1]]
    let parameters = Rober().defaultParameters

    func rhs(_ y: [Double], _ p: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: 3)
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { system.evaluateRightHandSide(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        return out
    }

    /// The sum of the reaction rates' magnitudes: the size of the terms whose rounding limits
    /// both the mass balance and the difference quotients.
    func termScale(_ y: [Double], _ p: [Double]) -> Double {
        abs(p[0] * y[0]) + abs(p[1] * y[1] * y[1]) + abs(p[2] * y[1] * y[2])
    }

    func step(_ x: Double) -> Double { 1e-6 * max(abs(x), 1e-3) }

    /// Central-difference columns ∂f/∂x_j for x = y or x = θ.
    func differenceColumns(_ y: [Double], _ p: [Double], parameters wrtParameters: Bool) -> [[Double]] {
        let x = wrtParameters ? p : y
        return x.indices.map { j in
            let h = step(x[j])
            var plus = x, minus = x
            plus[j] += h
            minus[j] -= h
            let fp = wrtParameters ? rhs(y, plus) : rhs(plus, p)
            let fm = wrtParameters ? rhs(y, minus) : rhs(minus, p)
            return (0..<3).map { (fp[$0] - fm[$0]) / (plus[j] - minus[j]) }
        }
    }

    /// |a − b| within 1e-9 of the derivative's own scale plus the rounding of the difference
    /// quotient (10 ulp of the rates, divided by the step).
    func expectClose(_ a: Double, _ b: Double, scale: Double, rounding: Double, _ comment: Comment) {
        #expect(abs(a - b) <= 1e-9 * scale + rounding, comment)
    }

    @Test func jacobianMatchesCentralDifferences() {
        for y in states {
            var jacobian = [Double](repeating: .nan, count: 9)
            y.withUnsafeBufferPointer { yb in
                parameters.withUnsafeBufferPointer { pb in
                    jacobian.withUnsafeMutableBufferPointer { system.evaluateJacobian(at: 0, state: yb, parameters: pb, into: $0) }
                }
            }
            let columns = differenceColumns(y, parameters, parameters: false)
            for j in 0..<3 {
                let scale = columns[j].map(abs).max()!
                let rounding = 10 * Double.ulpOfOne * termScale(y, parameters) / step(y[j])
                for i in 0..<3 {
                    expectClose(jacobian[i + 3 * j], columns[j][i], scale: scale, rounding: rounding,
                                "∂f\(i)/∂y\(j) at y = \(y)")
                }
            }
        }
    }

    @Test func pullbackMatchesCentralDifferencesAndAccumulates() {
        let lambda = [0.3, -1.7, 2.2]
        let initialState = [0.5, -0.25, 1.0], initialParameter = [-1.0, 2.0, 0.125]
        for y in states {
            var stateCotangent = initialState, parameterCotangent = initialParameter
            y.withUnsafeBufferPointer { yb in
                parameters.withUnsafeBufferPointer { pb in
                    lambda.withUnsafeBufferPointer { lb in
                        stateCotangent.withUnsafeMutableBufferPointer { sc in
                            parameterCotangent.withUnsafeMutableBufferPointer { pc in
                                system.accumulatePullback(at: 0, state: yb, parameters: pb, cotangent: lb,
                                                          stateCotangent: sc, parameterCotangent: pc)
                            }
                        }
                    }
                }
            }
            for (wrtParameters, result, start) in [(false, stateCotangent, initialState), (true, parameterCotangent, initialParameter)] {
                let columns = differenceColumns(y, parameters, parameters: wrtParameters)
                for j in columns.indices {
                    let expected = (0..<3).reduce(0.0) { $0 + lambda[$1] * columns[j][$1] }
                    let scale = columns[j].map(abs).max()! * 3
                    let x = wrtParameters ? parameters[j] : y[j]
                    let rounding = 30 * Double.ulpOfOne * termScale(y, parameters) / step(x) + 10 * Double.ulpOfOne
                    expectClose(result[j] - start[j], expected, scale: scale, rounding: rounding,
                                "\(wrtParameters ? "θ" : "y")[\(j)] cotangent at y = \(y)")
                }
            }
        }
    }

    @Test func rightHandSideConservesMassAndRejectsNegativeRates() throws {
        for y in states {
            let f = rhs(y, parameters)
            #expect(abs(f[0] + f[1] + f[2]) <= 4 * Double.ulpOfOne * termScale(y, parameters))
        }
        #expect(throws: ODEError.invalidParameter(name: "k2", value: -1, reason: "rate constants must be non-negative")) {
            _ = try ODEProblem(system: Rober(), parameters: [0.04, -1, 1e4], timeSpan: (0, 1))
        }
    }
}
