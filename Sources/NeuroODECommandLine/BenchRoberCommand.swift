import ArgumentParser
import NeuroODE
import NeuroODEStudies

/// `neuroode bench rober`: the cost of one stiff CVODE solve through NeuroODE, to compare with the
/// same solve in plain C (Validation/bench/rober_cvode.c, run by Validation/bench/run_rober_cvode.sh).
struct BenchRober: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rober",
        abstract: "Time ROBER to t = 4e10 with CVODE BDF (rtol 1e-6, atol 1e-10): median ms per solve and solver statistics."
    )

    @Option(help: "Number of timed solves (after one warm-up solve).")
    var repetitions = 200
    @Option(help: "text or json.") var format: BenchFormat = .text

    @OptionGroup var configOption: ConfigOption

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
    }

    func run() throws {
        let problem = try ODEProblem(system: Rober(), timeSpan: (0, 4e10))
        let solver = CVODE(method: .bdf, relativeTolerance: 1e-6, absoluteTolerance: 1e-10)
        var solution = try solver.solve(problem, output: .finalState)
        let clock = ContinuousClock()
        var milliseconds: [Double] = []
        milliseconds.reserveCapacity(repetitions)
        for _ in 0..<repetitions {
            let start = clock.now
            solution = try solver.solve(problem, output: .finalState)
            let elapsed = clock.now - start
            milliseconds.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
        }
        milliseconds.sort()
        let s = solution.statistics
        if format == .json {
            return try BenchResult(
                benchmark: "rober", precision: .f64, threads: 1,
                settings: ["method": solver.name, "rtol": "1e-6", "atol": "1e-10", "tEnd": "4e10", "repetitions": "\(repetitions)"],
                measurements: [
                    "millisecondsPerSolve": milliseconds[repetitions / 2], "minimumMilliseconds": milliseconds[0],
                    "steps": Double(s.steps), "rightHandSideEvaluations": Double(s.rightHandSideEvaluations),
                    "jacobianEvaluations": Double(s.jacobianEvaluations),
                ]
            ).printJSON()
        }
        print("ROBER to t = 4e10, \(solver.name) (NeuroODE), rtol 1e-6, atol 1e-10, \(repetitions) solves")
        print("median \(format(milliseconds[repetitions / 2])) ms per solve (min \(format(milliseconds[0])), max \(format(milliseconds[repetitions - 1])))")
        print("steps \(s.steps), rejected \(s.rejectedSteps), rhs \(s.rightHandSideEvaluations), jacobians \(s.jacobianEvaluations), "
              + "nonlinear iterations \(s.nonlinearIterations), convergence failures \(s.convergenceFailures), linear setups \(s.linearSolverSetups)")
        print("y(4e10) = \(solution.finalState.map { "\($0)" }.joined(separator: " "))")
    }

    private func format(_ value: Double) -> String {
        let scaled = (value * 1e4).rounded() / 1e4
        return "\(scaled)"
    }
}
