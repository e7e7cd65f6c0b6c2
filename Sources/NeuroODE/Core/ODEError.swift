/// Every way a simulation can be refused or can fail. Each case names the offending value, so the
/// message alone tells the user what to change.
public enum ODEError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A state or parameter vector has the wrong length.
    case dimensionMismatch(what: String, expected: Int, actual: Int)
    /// An entry of the initial state is NaN or infinite.
    case nonFiniteInitialState(index: Int, value: Double)
    /// A parameter is NaN or infinite.
    case nonFiniteParameter(name: String, value: Double)
    /// A parameter is finite but outside the model's domain.
    case invalidParameter(name: String, value: Double, reason: String)
    /// A parameter name the model does not have.
    case unknownParameter(name: String, model: String)
    /// The time span is not usable (non-finite ends, or a direction the integrator cannot go).
    case invalidTimeSpan(start: Double, end: Double, reason: String)
    /// A fixed step that is non-positive, non-finite or longer than the span.
    case invalidStepSize(Double)
    /// A span that `stepSize` would cover in more than `maximum` fixed steps (``FixedStepCount``).
    case tooManySteps(span: Double, stepSize: Double, maximum: Int)
    /// Requested output times that are non-finite, not strictly monotone, or outside the span.
    case invalidOutputTimes(reason: String)
    /// A tolerance or solver option out of range.
    case invalidTolerance(name: String, value: Double)
    /// The state became NaN or infinite (fixed step: at `step`; adaptive: after step rejection).
    /// `model` is filled in where the error leaves the integrator (``Integrator/solve(_:output:spikes:integrand:)``).
    case nonFiniteState(time: Double, step: Int, model: String? = nil)
    /// A fixed-step solve left a state's plausible range (``ConductanceBasedSystem/plausibleGateRange``,
    /// ``ConductanceBasedSystem/plausibleVoltageRange``) at `time`, after step `step` of size
    /// `stepSize`: the step is beyond the scheme's stability for this model.
    case implausibleState(model: String, state: String, value: Double, range: ClosedRange<Double>, time: Double, step: Int, stepSize: Double)
    /// The adaptive step size fell below what floating point can resolve at `time`.
    case stepSizeTooSmall(time: Double, stepSize: Double)
    /// The step budget ran out before the end of the span.
    case stepBudgetExhausted(time: Double, maxSteps: Int)
    /// The model's right-hand side threw.
    case rightHandSideFailed(model: String, time: Double, reason: String)
    /// An event (root) function returned a non-finite value.
    case nonFiniteEventFunction(time: Double)
    /// The integrator cannot be used with this system (leapfrog on a system without conductances).
    case unsupported(String)
    /// SUNDIALS returned a failure flag; `message` is CVODE's own message, captured.
    case solverFailure(flag: Int32, flagName: String, time: Double, message: String)

    public var description: String {
        switch self {
        case let .dimensionMismatch(what, expected, actual):
            return "dimension mismatch: \(what) has \(actual) entries, expected \(expected)"
        case let .nonFiniteInitialState(index, value):
            return "initial state y0[\(index)] = \(value) is not finite"
        case let .nonFiniteParameter(name, value):
            return "parameter \(name) = \(value) is not finite"
        case let .invalidParameter(name, value, reason):
            return "parameter \(name) = \(value) is invalid: \(reason)"
        case let .unknownParameter(name, model):
            return "unknown parameter '\(name)' for model \(model)"
        case let .invalidTimeSpan(start, end, reason):
            return "invalid time span [\(start), \(end)]: \(reason)"
        case let .invalidStepSize(dt):
            return "invalid step size dt = \(dt): it must be finite, positive and no longer than the span"
        case let .tooManySteps(span, stepSize, maximum):
            return "a span of \(span) in steps of \(stepSize) needs more than \(maximum) steps: shorten the span or lengthen the step"
        case let .invalidOutputTimes(reason):
            return "invalid output times: \(reason)"
        case let .invalidTolerance(name, value):
            return "invalid \(name) = \(value)"
        case let .nonFiniteState(time, step, model):
            return "the state\(model.map { " of \($0)" } ?? "") became non-finite at t = \(time) (step \(step))"
        case let .implausibleState(model, state, value, range, time, step, stepSize):
            return "\(model): state \(state) = \(value) left its range [\(range.lowerBound), \(range.upperBound)] at t = \(time) (step \(step) of dt = \(stepSize)): the step is too large for this model (or the input drives it out of its physiological range); use a smaller step (see README \"Leapfrog stability limits\")"
        case let .stepSizeTooSmall(time, stepSize):
            return "step size \(stepSize) too small at t = \(time): the solution may blow up or the problem is stiff (try cvode-bdf)"
        case let .stepBudgetExhausted(time, maxSteps):
            return "step budget of \(maxSteps) steps exhausted at t = \(time); raise --max-steps or use a stiff solver (cvode-bdf)"
        case let .rightHandSideFailed(model, time, reason):
            return "the right-hand side of \(model) failed at t = \(time): \(reason)"
        case let .nonFiniteEventFunction(time):
            return "an event function returned a non-finite value at t = \(time)"
        case let .unsupported(reason):
            return reason
        case let .solverFailure(flag, flagName, time, message):
            let detail = message.isEmpty ? "" : ": \(message)"
            return "CVODE failed with \(flagName) (\(flag)) at t = \(time)\(detail)"
        }
    }
}
