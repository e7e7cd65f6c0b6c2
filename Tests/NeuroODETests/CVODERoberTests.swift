import Foundation
import Testing
@testable import NeuroODE

/// Reference solutions written by Validation/rober_reference.py.
struct RoberReference: Decodable {
    var source: String
    var times: [Double]
    var states: [[Double]]
    /// Work counters printed by the SUNDIALS example (absent from the SciPy reference).
    var statistics: SolverStatistics?

    static func load(_ name: String) throws -> RoberReference {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "References"))
        return try JSONDecoder().decode(RoberReference.self, from: Data(contentsOf: url))
    }
}

/// CVODE BDF on ROBER against SUNDIALS' own example output and an independent tight SciPy solve.
@Suite struct CVODERoberTests {
    /// cvRoberts_dns.c: rtol 1e-4, atol (1e-8, 1e-14, 1e-6), analytic Jacobian.
    static let exampleSolver = CVODE(method: .bdf, relativeTolerance: 1e-4, absoluteTolerances: [1e-8, 1e-14, 1e-6])

    func solve(_ solver: CVODE, at times: [Double]) throws -> Solution {
        let problem = try ODEProblem(system: Rober(), timeSpan: (0, times.last!))
        let solution = try solver.solve(problem, output: .times(times))
        try #require(solution.times == times)
        return solution
    }

    /// SUNDIALS' acceptance test (check_ans in cvRoberts_dns.c): WRMS(y − ref) with weights
    /// 1/(rtol·|ref| + 10·atol).
    static func wrmsError(_ y: ArraySlice<Double>, _ reference: [Double], rtol: Double, atol: [Double]) -> Double {
        let sum = zip(Array(y), reference).enumerated().reduce(0.0) { total, entry in
            let (i, (value, ref)) = entry
            let weighted = (value - ref) / (rtol * abs(ref) + 10 * atol[i])
            return total + weighted * weighted
        }
        return (sum / Double(reference.count)).squareRoot()
    }

    @Test func reproducesSundialsExampleOutput() throws {
        let example = try RoberReference.load("cvroberts_dns")
        let solution = try solve(Self.exampleSolver, at: example.times)
        for (k, expected) in example.states.enumerated() {
            let y = solution.state(at: k)
            // The example prints 7 significant digits (±5e-7 relative from rounding). It runs in
            // CV_NORMAL mode without a stop time, so its last step overshoots 4e10 and is
            // interpolated back, while ours ends exactly there: the same steps up to the last one
            // give print precision everywhere else, and at 4e10 the two must agree within the
            // example's tolerances (SUNDIALS-weighted difference below 1).
            if k == example.states.count - 1 {
                let difference = Self.wrmsError(y, expected, rtol: 1e-4, atol: [1e-8, 1e-14, 1e-6])
                #expect(difference < 1, "t = 4e10: y = \(Array(y)), SUNDIALS printed \(expected)")
                continue
            }
            for i in 0..<3 {
                let relative = abs(y[y.startIndex + i] - expected[i]) / abs(expected[i])
                #expect(relative <= 1e-6, "t = \(example.times[k]), y\(i + 1) = \(y[y.startIndex + i]), SUNDIALS printed \(expected[i])")
            }
        }
        // The work counters SUNDIALS prints for its run; only the last step may differ.
        let expected = try #require(example.statistics)
        let s = solution.statistics
        let pairs = [(s.steps, expected.steps), (s.rejectedSteps, expected.rejectedSteps),
                     (s.rightHandSideEvaluations, expected.rightHandSideEvaluations),
                     (s.jacobianEvaluations, expected.jacobianEvaluations),
                     (s.nonlinearIterations, expected.nonlinearIterations),
                     (s.convergenceFailures, expected.convergenceFailures),
                     (s.linearSolverSetups, expected.linearSolverSetups)]
        for (ours, theirs) in pairs {
            #expect(abs(ours - theirs) <= 2, "statistics \(s) vs SUNDIALS \(expected)")
        }
    }

    /// SUNDIALS' acceptance criterion, WRMS < 1 in the example's own weights. cvRoberts_dns.c
    /// applies it at the final time only, and there it holds. At intermediate times the global
    /// error of SUNDIALS' own run (which the test above shows we reproduce) reaches WRMS ≈ 2.8
    /// (t = 4e5, y2): CVODE controls the local error per step, not the accumulated one. So the
    /// intermediate bar is 5, and a run 10× tighter must meet WRMS < 1 in the example's weights
    /// at every output time.
    @Test func passesSundialsAcceptanceAgainstTightReference() throws {
        let reference = try RoberReference.load("rober_reference")
        let rtol = 1e-4, atol = [1e-8, 1e-14, 1e-6]
        let example = try solve(Self.exampleSolver, at: reference.times)
        let tighter = try solve(CVODE(relativeTolerance: rtol / 10, absoluteTolerances: atol.map { $0 / 10 }), at: reference.times)
        for (k, ref) in reference.states.enumerated() {
            let error = Self.wrmsError(example.state(at: k), ref, rtol: rtol, atol: atol)
            let bar = k == reference.times.count - 1 ? 1.0 : 5.0
            #expect(error < bar, "t = \(reference.times[k]): WRMS error \(error), y = \(Array(example.state(at: k))), ref \(ref)")
            let tighterError = Self.wrmsError(tighter.state(at: k), ref, rtol: rtol, atol: atol)
            #expect(tighterError < 1, "rtol 1e-5, t = \(reference.times[k]): WRMS error \(tighterError)")
        }
    }

    /// With absolute tolerances scaled along with rtol, the global error should follow the
    /// tolerance: a log-log slope near 1 and an error within a modest multiple of rtol.
    @Test func errorFallsWithTolerance() throws {
        let reference = try RoberReference.load("rober_reference")
        let tolerances = [1e-5, 1e-6, 1e-7, 1e-8, 1e-9]
        var errors: [Double] = []
        for rtol in tolerances {
            let solver = CVODE(relativeTolerance: rtol, absoluteTolerances: [1e-9 * rtol, 1e-15 * rtol, 1e-9 * rtol])
            let solution = try solve(solver, at: reference.times)
            var worst = 0.0
            for (k, ref) in reference.states.enumerated() {
                for i in 0..<3 {
                    worst = max(worst, abs(solution.state(at: k)[k * 3 + i] - ref[i]) / abs(ref[i]))
                }
            }
            errors.append(worst)
        }
        let slope = (log10(errors.first!) - log10(errors.last!)) / (log10(tolerances.first!) - log10(tolerances.last!))
        #expect(slope > 0.7 && slope < 1.3, "errors \(errors), slope \(slope)")
        for (rtol, error) in zip(tolerances, errors) {
            #expect(error < 100 * rtol, "rtol \(rtol): max relative error \(error)")
        }
    }

    @Test func conservesMassAtDefaultTolerances() throws {
        let problem = try ODEProblem(system: Rober(), timeSpan: (0, 4e10))
        let solution = try CVODE().solve(problem, output: .everyStep(1))
        #expect(solution.times.count > 100)
        var worst = 0.0
        for k in solution.times.indices {
            let y = solution.state(at: k)
            worst = max(worst, abs(y.reduce(0, +) - 1))
        }
        #expect(worst <= 1e-6, "max |y1 + y2 + y3 − 1| = \(worst)")
        #expect(solution.finalTime == 4e10)
    }
}
