/// A time-stepping method. Integrators are generic over the system so that the right-hand side is
/// specialised and inlined into the step loop: no existential call per evaluation.
public protocol Integrator: Sendable {
    /// The name used on the command line and in output files.
    var name: String { get }

    /// Integrates `problem` from its start to its end time, feeding `recorder`, and returns the
    /// work counters. Called by ``solve(_:output:spikes:integrand:)`` with a validated, non-empty span;
    /// must call ``TrajectoryRecorder/complete(at:state:)`` before returning.
    func integrate<System: ODESystem>(
        _ problem: ODEProblem<System>, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics

    /// The same integrator set up for a system that appends `count` state components to the one it
    /// was configured for — running integrals carried as quadrature state. Integrators with
    /// per-component settings (CVODE's absolute-tolerance vector) extend them; the default is `self`.
    func appendingComponents(_ count: Int) -> Self
}

extension Integrator {
    /// Default: `self`, for integrators whose settings do not depend on the dimension.
    public func appendingComponents(_ count: Int) -> Self { self }
}

extension Integrator {
    /// Solves `problem`, sampling per `output`, detecting spikes and accumulating running integrals
    /// when asked.
    ///
    /// An empty span (end == start) returns the initial state exactly, without calling the solver.
    public func solve<System: ODESystem>(
        _ problem: ODEProblem<System>,
        output: OutputSchedule = .everyStep(1),
        spikes: SpikeDetection? = nil,
        integrand: RunningIntegrand? = nil
    ) throws(ODEError) -> Solution {
        try output.validate(start: problem.startTime, end: problem.endTime)
        if let variables = spikes?.variables {
            for v in variables where !(0..<problem.system.dimension).contains(v) {
                throw .dimensionMismatch(what: "spike variable index \(v)", expected: problem.system.dimension, actual: v)
            }
        }
        var recorder = TrajectoryRecorder(
            dimension: problem.system.dimension, schedule: output, spikes: spikes,
            voltageIndices: problem.system.voltageIndices, direction: problem.direction, integrand: integrand)
        if problem.startTime == problem.endTime {
            problem.initialState.withUnsafeBufferPointer { y0 in
                recorder.start(at: problem.startTime, state: y0)
                recorder.complete(at: problem.startTime, state: y0)
            }
            return recorder.solution(statistics: SolverStatistics(), stateNames: problem.system.stateNames)
        }
        do {
            let statistics = try integrate(problem, recorder: &recorder)
            return recorder.solution(statistics: statistics, stateNames: problem.system.stateNames)
        } catch let .nonFiniteState(time, step, nil) {
            // Integrators see only numbers; the error names the model here, once for all of them.
            throw .nonFiniteState(time: time, step: step, model: problem.system.name)
        }
    }
}

extension ODESystem {
    /// Evaluates the right-hand side, turning any thrown error into a typed one naming the model
    /// and the time.
    @inlinable @inline(__always)
    public func rightHandSide(
        _ t: Double, _ y: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>,
        _ dydt: UnsafeMutableBufferPointer<Double>
    ) throws(ODEError) {
        do {
            try evaluateRightHandSide(at: t, state: y, parameters: p, into: dydt)
        } catch let error as ODEError {
            throw error
        } catch {
            throw .rightHandSideFailed(model: name, time: t, reason: "\(error)")
        }
    }
}
