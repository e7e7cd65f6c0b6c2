import Foundation
import Testing
@testable import NeuroODE

/// The Izhikevich model: its equations and derivatives against central differences, its conductance
/// form against its right-hand side, and its spike times, with every integrator that has events,
/// against SciPy (Validation/izhikevich_reference.py: DOP853 at 1e-12 with terminal events).
@Suite struct IzhikevichTests {
    struct Reference: Decodable {
        struct Case: Decodable { let parameters: [Double]; let initialState: [Double]; let spikeTimes: [Double]; let finalState: [Double] }
        let current: Double, endTime: Double
        let presets: [String: Case]
    }

    static func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "izhikevich", withExtension: "json", subdirectory: "References"))
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    static func rhs(_ system: Izhikevich, _ y: [Double], _ p: [Double]) -> [Double] {
        var out = [0.0, 0.0]
        y.withUnsafeBufferPointer { y in
            p.withUnsafeBufferPointer { p in
                out.withUnsafeMutableBufferPointer { system.evaluateRightHandSide(at: 0, state: y, parameters: p, into: $0) }
            }
        }
        return out
    }

    @Test func presetsAndDefinition() {
        let rs = Izhikevich()
        #expect(rs.name == "izhikevich" && rs.parameterNames == ["a", "b", "c", "d", "I"])
        #expect(rs.defaultParameters == [0.02, 0.2, -65, 8, 10])
        #expect(Izhikevich(preset: .fastSpiking).defaultParameters == [0.1, 0.2, -65, 2, 10])
        #expect(Izhikevich(preset: .chattering).defaultParameters == [0.02, 0.2, -50, 2, 10])
        #expect(Izhikevich(preset: .intrinsicallyBursting, current: 4).defaultParameters == [0.02, 0.2, -55, 4, 4])
        #expect(rs.defaultInitialState == [-65, -13])
        // v' = 0.04v² + 5v + 140 − u + I, u' = a(bv − u), written out by hand at one point.
        let f = Self.rhs(rs, [-60, -10], [0.02, 0.2, -65, 8, 10])
        #expect(abs(f[0] - (144 - 300 + 140 + 10 + 10)) < 1e-12)
        #expect(abs(f[1] - 0.02 * (-12 + 10)) < 1e-15)
    }

    @Test func rejectsBadParameters() {
        #expect(throws: ODEError.invalidParameter(name: "a", value: 0, reason: "the recovery rate must be positive")) {
            try ODEProblem(system: Izhikevich(), parameters: [0, 0.2, -65, 8, 10], timeSpan: (0, 1))
        }
        #expect(throws: ODEError.self) { try ODEProblem(system: Izhikevich(), parameters: [0.02, 0.2, 30, 8, 10], timeSpan: (0, 1)) }
    }

    /// The Jacobian and the pullback (∂f/∂y and ∂f/∂θ) against central differences of f.
    @Test func derivativesMatchCentralDifferences() throws {
        let system = Izhikevich(preset: .chattering)
        let y = [-52.3, -7.1], p = [0.03, 0.25, -50, 2, 7.5]
        var jacobian = [Double](repeating: 0, count: 4)
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                jacobian.withUnsafeMutableBufferPointer { system.evaluateJacobian(at: 0, state: yb, parameters: pb, into: $0) }
            }
        }
        let lambda = [0.7, -1.3]
        var stateBar = [0.0, 0.0], parameterBar = [Double](repeating: 0, count: 5)
        y.withUnsafeBufferPointer { yb in
            p.withUnsafeBufferPointer { pb in
                lambda.withUnsafeBufferPointer { lb in
                    stateBar.withUnsafeMutableBufferPointer { sb in
                        parameterBar.withUnsafeMutableBufferPointer { gb in
                            system.accumulatePullback(at: 0, state: yb, parameters: pb, cotangent: lb, stateCotangent: sb, parameterCotangent: gb)
                        }
                    }
                }
            }
        }
        let h = 1e-6
        for j in 0..<2 {
            var plus = y, minus = y
            plus[j] += h
            minus[j] -= h
            let column = zip(Self.rhs(system, plus, p), Self.rhs(system, minus, p)).map { ($0 - $1) / (2 * h) }
            for i in 0..<2 { #expect(abs(jacobian[i + 2 * j] - column[i]) < 1e-7, "J[\(i),\(j)]") }
            #expect(abs(stateBar[j] - (lambda[0] * column[0] + lambda[1] * column[1])) < 1e-7, "ȳ[\(j)]")
        }
        for k in 0..<5 {
            var plus = p, minus = p
            plus[k] += h
            minus[k] -= h
            let column = zip(Self.rhs(system, y, plus), Self.rhs(system, y, minus)).map { ($0 - $1) / (2 * h) }
            #expect(abs(parameterBar[k] - (lambda[0] * column[0] + lambda[1] * column[1])) < 1e-6, "θ̄[\(k)]")
        }
    }

    /// E − G·v and (u∞ − u)/τ reproduce the right-hand side.
    @Test func conductanceFormMatchesTheRightHandSide() {
        let system = Izhikevich(preset: .fastSpiking)
        let p = system.defaultParameters, v = -40.0, u = -6.0
        var g = [0.0], e = [0.0], uInf = [0.0], tau = [0.0]
        [v].withUnsafeBufferPointer { vb in
            [u].withUnsafeBufferPointer { ub in
                p.withUnsafeBufferPointer { pb in
                    g.withUnsafeMutableBufferPointer { gb in
                        e.withUnsafeMutableBufferPointer { eb in
                            system.evaluateMembraneCoefficients(at: 0, voltages: vb, gates: ub, parameters: pb, conductance: gb, drive: eb)
                        }
                    }
                    uInf.withUnsafeMutableBufferPointer { xb in
                        tau.withUnsafeMutableBufferPointer { tb in
                            system.evaluateGateKinetics(at: 0, voltages: vb, parameters: pb, steadyState: xb, timeConstant: tb)
                        }
                    }
                }
            }
        }
        let f = Self.rhs(system, [v, u], p)
        #expect(abs((e[0] - g[0] * v) / system.capacitance(parameters: [1.0].withUnsafeBufferPointer { $0 }) - f[0]) < 1e-12)
        #expect(abs((uInf[0] - u) / tau[0] - f[1]) < 1e-15)
    }

    /// dopri5 and CVODE at tight tolerances locate every spike of every preset within 1e-5 ms of
    /// SciPy's and end at its final state.
    @Test(arguments: Izhikevich.Preset.allCases)
    func adaptiveIntegratorsMatchSciPy(preset: Izhikevich.Preset) throws {
        let reference = try #require(try Self.reference().presets[preset.rawValue])
        let problem = try ODEProblem(
            system: Izhikevich(preset: preset), initialState: reference.initialState, parameters: reference.parameters, timeSpan: (0, 200))
        let integrators: [any Integrator] = [
            DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-11),
            CVODE(method: .bdf, relativeTolerance: 1e-11, absoluteTolerance: 1e-11),
        ]
        for integrator in integrators {
            let solution = try integrator.solve(problem, output: .finalState)
            let spikes = solution.events.map(\.time)
            try #require(spikes.count == reference.spikeTimes.count, "\(integrator.name): \(spikes.count) spikes vs \(reference.spikeTimes.count)")
            let worst = zip(spikes, reference.spikeTimes).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "\(integrator.name) \(preset): spike times off by \(worst) ms")
            for i in 0..<2 {
                #expect(abs(solution.finalState[i] - reference.finalState[i]) < 1e-4 * max(1, abs(reference.finalState[i])),
                        "\(integrator.name) \(preset): final state \(solution.finalState) vs \(reference.finalState)")
            }
        }
    }

    /// The leapfrog converges to SciPy's spike times: at Δt = 0.005 ms every spike is within
    /// 0.05 ms, and the worst error shrinks at least twofold from Δt = 0.02 (measured: 2.2 to 8.4
    /// fold; the worst spike of a long train is a noisy measure of an O(Δt) error).
    @Test(arguments: Izhikevich.Preset.allCases)
    func leapfrogConvergesToSciPy(preset: Izhikevich.Preset) throws {
        let reference = try #require(try Self.reference().presets[preset.rawValue])
        let problem = try ODEProblem(
            system: Izhikevich(preset: preset), initialState: reference.initialState, parameters: reference.parameters, timeSpan: (0, 200))
        var errors: [Double] = []
        for dt in [0.02, 0.005] {
            let spikes = try Leapfrog(stepSize: dt).solve(problem, output: .finalState).events.map(\.time)
            try #require(spikes.count == reference.spikeTimes.count, "dt \(dt): \(spikes.count) spikes vs \(reference.spikeTimes.count)")
            errors.append(zip(spikes, reference.spikeTimes).map { abs($0 - $1) }.max() ?? 0)
        }
        #expect(errors[1] < 0.05 && errors[1] * 2 < errors[0], "\(preset): worst spike-time errors \(errors)")
    }
}
