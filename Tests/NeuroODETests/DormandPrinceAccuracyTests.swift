import Foundation
import Testing
@testable import NeuroODE

/// Convergence order, tolerance proportionality and dense output of dopri5 against analytic
/// solutions and SciPy's matrix exponential (RELIABILITY.md "Numerical checks").
@Suite struct DormandPrinceAccuracyTests {
    typealias Systems = DormandPrinceTestSystems

    /// mean log2(err(h)/err(h/2)) over dt = 2⁻⁴ … 2⁻⁸.
    static func observedOrder(_ error: (Double) throws -> Double) rethrows -> (order: Double, errors: [Double]) {
        let errors = try (4...8).map { try error(pow(2, -Double($0))) }
        let ratios = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        return (ratios.reduce(0, +) / Double(ratios.count), errors)
    }

    static func maxAbsDifference(_ a: some Collection<Double>, _ b: some Collection<Double>) -> Double {
        zip(a, b).map { abs($0 - $1) }.max() ?? .nan
    }

    @Test func fixedStepOrderIsFiveOnExponential() throws {
        // |λ|·dt ≤ 1/4 keeps the coarsest step near the asymptotic regime; the finest error
        // (≈ 2e-12 relative) stays well above the roundoff of 512 steps.
        let rate = -4.0
        let problem = try ODEProblem(system: Systems.Exponential(rate: rate), timeSpan: (0, 2))
        let (order, errors) = try Self.observedOrder { dt in
            let y = try DormandPrince.fixedStep(dt).solve(problem, output: .finalState).finalState[0]
            return abs(y - exp(2 * rate)) / exp(2 * rate)
        }
        print("dopri5 fixed-step order, y' = -4y on [0, 2]: \(order)")
        #expect(abs(order - 5) <= 0.2, "order \(order), errors \(errors)")
    }

    @Test func fixedStepOrderIsFiveOnHarmonicOscillator() throws {
        let omega = 6.0, end = 2.0
        let problem = try ODEProblem(system: Systems.Oscillator(omega: omega), timeSpan: (0, end))
        let exact = Systems.Oscillator.exact(end, omega: omega)
        let (order, errors) = try Self.observedOrder { dt in
            let y = try DormandPrince.fixedStep(dt).solve(problem, output: .finalState).finalState
            // The energy norm: a phase-independent measure (a single component's error oscillates
            // with the phase at the end time and blurs the fitted order).
            return hypot(y[0] - exact[0], (y[1] - exact[1]) / omega)
        }
        print("dopri5 fixed-step order, oscillator ω = 6 on [0, 2]: \(order)")
        #expect(abs(order - 5) <= 0.2, "order \(order), errors \(errors)")
    }

    @Test func linearSystemMatchesMatrixExponential() throws {
        let reference = try Systems.LinearReference.load()
        let system = Systems.Linear(dimension: reference.dimension, defaultParameters: reference.A, defaultInitialState: reference.y0)
        let problem = try ODEProblem(system: system, timeSpan: (0, reference.T))
        let adaptive = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12).solve(problem, output: .finalState)
        let adaptiveError = Self.maxAbsDifference(adaptive.finalState, reference.yT)
        #expect(adaptiveError <= 1e-8, "adaptive error \(adaptiveError)")
        let (order, errors) = try Self.observedOrder { dt in
            let y = try DormandPrince.fixedStep(dt).solve(problem, output: .finalState).finalState
            return Self.maxAbsDifference(y, reference.yT)
        }
        print("dopri5 10×10 linear system: adaptive (rtol 1e-10) error \(adaptiveError), fixed-step order \(order)")
        #expect(abs(order - 5) <= 0.2, "order \(order), errors \(errors)")
    }

    /// Error-per-unit-step control of a 5th-order step with a 4th-order estimate makes the global
    /// error roughly proportional to the tolerance: the log-log slope should be near 1.
    @Test func globalErrorIsProportionalToTolerance() throws {
        let omega = 2.0, end = 10.0
        let problem = try ODEProblem(system: Systems.Oscillator(omega: omega), timeSpan: (0, end))
        let exact = Systems.Oscillator.exact(end, omega: omega)
        let exponents = Array(4...10)
        var logTolerance: [Double] = [], logError: [Double] = []
        for k in exponents {
            let tolerance = pow(10, -Double(k))
            let solution = try DormandPrince(relativeTolerance: tolerance, absoluteTolerance: tolerance).solve(problem, output: .finalState)
            logTolerance.append(log10(tolerance))
            logError.append(log10(Self.maxAbsDifference(solution.finalState, exact)))
        }
        let slope = Self.leastSquaresSlope(logTolerance, logError)
        print("dopri5 error-vs-tolerance slope (oscillator, rtol 1e-4…1e-10): \(slope); log10 errors \(logError)")
        #expect(abs(slope - 1) <= 0.15, "slope \(slope), log10 errors \(logError)")
        // And every tolerance is actually met within a modest factor.
        for (t, e) in zip(logTolerance, logError) { #expect(e <= t + 1.5, "log10 tol \(t): log10 error \(e)") }
    }

    static func leastSquaresSlope(_ x: [Double], _ y: [Double]) -> Double {
        let mx = x.reduce(0, +) / Double(x.count), my = y.reduce(0, +) / Double(y.count)
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = x.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
        return sxy / sxx
    }

    @Test func denseOutputMatchesOscillatorInsideSteps() throws {
        let omega = 3.0, end = 10.0, tolerance = 1e-7
        let problem = try ODEProblem(system: Systems.Oscillator(omega: omega), timeSpan: (0, end))
        let times = (1...1000).map { Double($0) * end / 1000 }
        let solution = try DormandPrince(relativeTolerance: tolerance, absoluteTolerance: tolerance).solve(problem, output: .times(times))
        // Far fewer steps than outputs: most outputs come from the interpolant, not a step end.
        #expect(solution.statistics.steps < times.count / 3, "\(solution.statistics.steps) steps")
        #expect(solution.times == times)
        var worst = 0.0
        for (i, t) in times.enumerated() {
            worst = max(worst, Self.maxAbsDifference(solution.state(at: i), Systems.Oscillator.exact(t, omega: omega)))
        }
        // O(tol): the error of the steps themselves (≈ tol·time) plus the interpolation error.
        print("dopri5 dense output, oscillator ω = 3 on [0, 10], tol 1e-7: \(solution.statistics.steps) steps, worst error \(worst)")
        #expect(worst <= 100 * tolerance, "worst dense-output error \(worst)")
        // The interpolant adds little to the error the steps already carry.
        let steps = try DormandPrince(relativeTolerance: tolerance, absoluteTolerance: tolerance).solve(problem, output: .everyStep(1))
        var worstAtSteps = 0.0
        for (i, t) in steps.times.enumerated() {
            worstAtSteps = max(worstAtSteps, Self.maxAbsDifference(steps.state(at: i), Systems.Oscillator.exact(t, omega: omega)))
        }
        #expect(worst <= 2 * worstAtSteps + tolerance, "dense \(worst) vs step ends \(worstAtSteps)")
    }

    /// The continuous extension is of order 4: over one step from the exact value, the error at
    /// θ = ½ falls as h⁵ (a 3rd-order interpolant would give h⁴; the step end falls as h⁶).
    @Test func denseOutputLocalErrorIsFifthOrderInStep() throws {
        var errors: [Double] = []
        for k in 3...7 {
            let h = pow(2, -Double(k))
            let problem = try ODEProblem(system: Systems.Riccati(), initialState: [1], timeSpan: (0, h))
            let solution = try DormandPrince.fixedStep(h).solve(problem, output: .times([0.5 * h]))
            errors.append(abs(solution.states[0] - 1 / (1 - 0.5 * h)))
        }
        let ratios = zip(errors, errors.dropFirst()).map { log2($0 / $1) }
        let order = ratios.reduce(0, +) / Double(ratios.count)
        #expect(abs(order - 5) <= 0.3, "local order \(order), errors \(errors)")
    }

    /// The interpolation weights b_i(θ) against the exact ones from
    /// Validation/dopri5_dense_output_conditions.py: with h = 1, y₀ = 0 and kᵢ the i-th unit
    /// vector of ℝ⁷, the dense output's i-th component is b_i(θ).
    @Test func denseOutputWeightsMatchExactContinuousExtension() throws {
        struct Reference: Decodable { let theta: [Double]; let weights: [[Double]] }
        let url = try #require(Bundle.module.url(forResource: "dopri5_dense_output", withExtension: "json", subdirectory: "References"))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let system = Systems.Linear(dimension: 7, defaultParameters: Array(repeating: 0, count: 49), defaultInitialState: Array(repeating: 0, count: 7))
        let problem = try ODEProblem(system: system, timeSpan: (0, 1))
        let run = DormandPrince.Run(problem: problem, stepping: .fixed(1))
        defer { run.deallocate() }
        let b = [35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0]
        for s in 0..<7 {
            for i in 0..<7 { run.stage[s][i] = i == s ? 1 : 0 }
            run.y[s] = 0
            run.yNew[s] = b[s]
        }
        run.prepareDenseOutput(step: 1)
        for (theta, weights) in zip(reference.theta, reference.weights) {
            run.interpolate(theta, into: run.interpolated)
            for i in 0..<7 {
                #expect(abs(run.interpolated[i] - weights[i]) <= 1e-14, "b\(i + 1)(\(theta))")
            }
        }
    }

    @Test func integratesBackward() throws {
        let rate = -0.7
        let problem = try ODEProblem(system: Systems.Exponential(rate: rate), initialState: [1], timeSpan: (1, 0))
        let times = [0.9, 0.55, 0.2, 0.0]
        let adaptive = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12).solve(problem, output: .times(times))
        #expect(adaptive.times == times)
        for (i, t) in times.enumerated() {
            let exact = exp(rate * (t - 1))
            #expect(abs(adaptive.states[i] - exact) <= 1e-9 * exact, "t = \(t)")
        }
        #expect(adaptive.finalTime == 0)
        let fixed = try DormandPrince.fixedStep(0.01).solve(problem, output: .finalState)
        #expect(abs(fixed.finalState[0] - exp(-rate)) <= 1e-11)
        #expect(fixed.statistics.steps == 100)
        // Backward from y(1) recovers the forward start: forward then backward returns y0.
        let forward = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
            .solve(try ODEProblem(system: Systems.Exponential(rate: rate), initialState: [2], timeSpan: (0, 1)), output: .finalState)
        let back = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
            .solve(try ODEProblem(system: Systems.Exponential(rate: rate), initialState: forward.finalState, timeSpan: (1, 0)), output: .finalState)
        #expect(abs(back.finalState[0] - 2) <= 1e-9)
    }
}
