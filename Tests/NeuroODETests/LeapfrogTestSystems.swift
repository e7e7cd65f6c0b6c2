import Foundation
@testable import NeuroODE

/// Small conductance-based systems with known behaviour, for the leapfrog tests.
extension LeapfrogModelsTestSupport {
    /// A membrane with one gate and a manufactured exact solution.
    ///
    ///     C dV/dt = E(t, x) − (g0 + g1·x)·V,    dx/dt = (x∞ − x)/τ   (x∞, τ constant)
    ///
    /// with E(t, x) = C·V*′(t) + (g0 + g1·x)·V*(t) and V*(t) = a + b·sin(ωt). Whatever x does,
    /// V = V* solves the voltage equation when V(0) = V*(0), and x(t) = x∞ + (x₀ − x∞)e^{−t/τ}:
    /// both components are known in closed form, while the scheme still couples them (G and E
    /// depend on the gate, E on time).
    struct ManufacturedMembrane: ConductanceBasedSystem {
        static let c = 2.0, g0 = 0.5, g1 = 3.0, a = 1.0, b = 0.5, omega = 2.0, xInf = 0.2, tau = 0.7, x0 = 0.9

        var name: String { "manufactured-membrane" }
        var dimension: Int { 2 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { Self.exact(0) }
        var voltageIndices: [Int] { [0] }
        var voltageCount: Int { 1 }

        static func exact(_ t: Double) -> [Double] {
            [a + b * sin(omega * t), xInf + (x0 - xInf) * exp(-t / tau)]
        }

        private static func drive(_ t: Double, _ x: Double) -> Double {
            c * b * omega * cos(omega * t) + (g0 + g1 * x) * (a + b * sin(omega * t))
        }

        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = (Self.drive(t, y[1]) - (Self.g0 + Self.g1 * y[1]) * y[0]) / Self.c
            dydt[1] = (Self.xInf - y[1]) / Self.tau
        }

        func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { Self.c }

        func evaluateGateKinetics(
            at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
        ) {
            steadyState[0] = Self.xInf
            timeConstant[0] = Self.tau
        }

        func evaluateMembraneCoefficients(
            at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
            parameters p: UnsafeBufferPointer<Double>,
            conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
        ) {
            conductance[0] = Self.g0 + Self.g1 * gates[0]
            drive[0] = Self.drive(t, gates[0])
        }
    }

    /// V′ = −k(V − cos t) with k = 10⁶ written as C = 1, G = k, E = k·cos t: the stiff test of
    /// RELIABILITY.md. After a fast transient V follows cos t.
    struct StiffRelaxation: ConductanceBasedSystem {
        static let rate = 1e6
        var name: String { "stiff-relaxation" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [1] }
        var voltageCount: Int { 1 }

        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = -Self.rate * (y[0] - cos(t))
        }

        func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { 1 }
        func evaluateGateKinetics(
            at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
        ) {}
        func evaluateMembraneCoefficients(
            at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
            parameters p: UnsafeBufferPointer<Double>,
            conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
        ) {
            conductance[0] = Self.rate
            drive[0] = Self.rate * cos(t)
        }
    }

    /// dV/dt = 1/√(1 − t) − V: the drive blows up at t = 1 and is NaN beyond it, so a fixed step
    /// whose midpoint passes t = 1 must stop with an error instead of returning garbage.
    struct BlowUp: ConductanceBasedSystem {
        var name: String { "blow-up" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [0] }
        var voltageCount: Int { 1 }

        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = 1 / (1 - t).squareRoot() - y[0]
        }

        func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { 1 }
        func evaluateGateKinetics(
            at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
        ) {}
        func evaluateMembraneCoefficients(
            at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
            parameters p: UnsafeBufferPointer<Double>,
            conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
        ) {
            conductance[0] = 1
            drive[0] = 1 / (1 - t).squareRoot()
        }
    }

    /// y′ = −y: a plain ODE without conductance structure, which the leapfrog must refuse.
    struct PlainDecay: ODESystem {
        var name: String { "plain-decay" }
        var dimension: Int { 1 }
        var parameterNames: [String] { [] }
        var defaultParameters: [Double] { [] }
        var defaultInitialState: [Double] { [1] }

        func evaluateRightHandSide(
            at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
            into dydt: UnsafeMutableBufferPointer<Double>
        ) {
            dydt[0] = -y[0]
        }
    }
}
