import NeuroODE

/// Whether a system can be integrated back to where it came from — the assumption of the full
/// (backsolve) adjoint, which re-creates y(t) by integrating y' = f backward from y(T)
/// (SCIENCE.md "Gradient methods" and claim 2).
///
/// The forward solve from t₀ to T is sampled at the given times; then y is integrated backward
/// from y(T) with the same integrator, and ‖y_backward(t) − y_forward(t)‖₂ is recorded at the same
/// times. For a reversible flow (a rotation) the error stays at the tolerance level. Where the
/// forward flow contracts (a limit cycle attracting nearby orbits, ROBER's fast chemistry
/// relaxing within 10⁻⁴ time units) the backward flow expands at the same rates, so every local
/// error is amplified like exp(rate·elapsed time): the backward solution leaves the forward one,
/// or the backward solve fails outright.
///
/// The backward pass restarts at each sampling time from the state reached, so a failure is
/// located within one sampling interval and the samples before it are kept.
public enum ReversibilityCheck {
    /// The forward and backward states at one sampling time.
    public struct Sample: Sendable {
        /// The sampling time.
        public var time: Double
        /// y_forward(t).
        public var forward: [Double]
        /// y_backward(t), integrated back from y(T).
        public var backward: [Double]
        /// ‖backward − forward‖₂.
        public var distance: Double
    }

    /// The result of a check: the samples reached and where the backward solve failed, if it did.
    public struct Outcome: Sendable {
        /// From T down to the earliest time reached.
        public var samples: [Sample]
        /// Where the backward solve failed, and why; `nil` when it reached t₀.
        public var failure: (time: Double, reason: String)?
    }

    /// Runs the check on `problem` (a forward span) at `times`, which must increase strictly inside
    /// the span; the end points are added when missing.
    public static func run<System: ODESystem, Method: Integrator>(
        _ problem: ODEProblem<System>, integrator: Method, times: [Double]
    ) throws(ODEError) -> Outcome {
        let (start, end) = (problem.startTime, problem.endTime)
        guard end > start else { throw .invalidTimeSpan(start: start, end: end, reason: "the check needs a forward span") }
        var grid = times
        if grid.first != start { grid.insert(start, at: 0) }
        if grid.last != end { grid.append(end) }
        let forward = try integrator.solve(problem, output: .times(grid))
        let n = problem.system.dimension
        var state = forward.finalState
        var samples = [Sample(time: end, forward: state, backward: state, distance: 0)]
        for k in stride(from: grid.count - 2, through: 0, by: -1) {
            let segment: Solution
            do {
                let backward = try ODEProblem(
                    system: problem.system, initialState: state, parameters: problem.parameters, timeSpan: (grid[k + 1], grid[k]))
                segment = try integrator.solve(backward, output: .finalState)
            } catch {
                return Outcome(samples: samples, failure: (grid[k + 1], error.description))
            }
            state = segment.finalState
            let reference = Array(forward.state(at: k))
            var squared = 0.0
            for i in 0..<n { squared += (state[i] - reference[i]) * (state[i] - reference[i]) }
            samples.append(Sample(time: grid[k], forward: reference, backward: state, distance: squared.squareRoot()))
        }
        return Outcome(samples: samples, failure: nil)
    }
}
