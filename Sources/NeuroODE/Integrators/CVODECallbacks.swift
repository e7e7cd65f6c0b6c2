import CSundials

/// The Swift side of CVODE's C callbacks: what the right-hand side, Jacobian, root and error
/// handler functions reach through CVODE's `user_data` pointer.
///
/// C function pointers cannot capture context or be generic, so the four `@convention(c)`
/// functions below are fixed, and everything model-specific lives here: closures built once per
/// solve in a generic context (so the model call inside them is specialised, not an existential
/// call), the parameter vector, and the first error the model raised. Callbacks never throw across
/// the C boundary: they store the error and return a status code, and the session rethrows it
/// after `CVode` returns.
final class CVODECallbacks {
    /// A model evaluation: (t, y, θ, output). Throws whatever the model throws.
    typealias Evaluation = (
        Double, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>
    ) throws -> Void

    let modelName: String
    let dimension: Int
    let eventCount: Int
    /// The parameter vector, copied once so that callbacks read it without touching an array.
    let parameters: UnsafeMutableBufferPointer<Double>
    private let rightHandSide: Evaluation
    /// ∂f/∂y in column-major order, when the system provides it; `nil` selects CVODE's difference quotients.
    private let jacobian: Evaluation?
    private let eventFunctions: Evaluation?
    /// Running integrands r(t, y) that CVODES integrates as quadratures (the adjoint's loss
    /// integrals); set before `CVodeQuadInit`.
    var integrand: RunningIntegrand?

    /// The first hard error raised inside a callback (a model that threw, a non-finite event
    /// function). It takes precedence over CVODE's own flag, which only says "the callback failed".
    private(set) var failure: ODEError?
    /// The latest time at which the right-hand side or Jacobian came out non-finite since the
    /// solution last made progress. Such a value is reported to CVODE as recoverable (it shrinks
    /// the step and retries); if CVODE gives up or stalls, this is the time the error names.
    var nonFiniteTime: Double?
    /// CVODE's message for the latest error, captured instead of printed.
    private(set) var message = ""

    init<System: ODESystem>(system: System, parameters values: [Double]) {
        modelName = system.name
        dimension = system.dimension
        parameters = .allocate(capacity: values.count)
        _ = parameters.initialize(from: values)
        rightHandSide = { t, y, p, dydt in
            try system.evaluateRightHandSide(at: t, state: y, parameters: p, into: dydt)
        }
        if let jacobianSystem = system as? any JacobianProviding {
            jacobian = Self.jacobianEvaluation(jacobianSystem)
        } else {
            jacobian = nil
        }
        if let eventSystem = system as? any EventSystem {
            eventCount = eventSystem.eventCount
            eventFunctions = Self.eventEvaluation(eventSystem)
        } else {
            eventCount = 0
            eventFunctions = nil
        }
    }

    deinit {
        parameters.deallocate()
    }

    var hasJacobian: Bool { jacobian != nil }

    private static func jacobianEvaluation<S: JacobianProviding>(_ system: S) -> Evaluation {
        { t, y, p, jac in try system.evaluateJacobian(at: t, state: y, parameters: p, into: jac) }
    }

    private static func eventEvaluation<S: EventSystem>(_ system: S) -> Evaluation {
        { t, y, p, g in try system.evaluateEventFunctions(at: t, state: y, parameters: p, into: g) }
    }

    /// Keeps the first error: later ones are usually consequences of it.
    private func record(_ error: any Error, at t: Double) {
        guard failure == nil else { return }
        failure = (error as? ODEError) ?? .rightHandSideFailed(model: modelName, time: t, reason: "\(error)")
    }

    // MARK: Entry points for the C trampolines (status codes follow CVODE: 0 ok, > 0 recoverable, < 0 fatal)

    @inline(__always)
    fileprivate func evaluateRightHandSide(_ t: Double, _ y: N_Vector, _ ydot: N_Vector) -> Int32 {
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: dimension)
        let derivative = UnsafeMutableBufferPointer(start: nde_nvector_data(ydot), count: dimension)
        do {
            try rightHandSide(t, state, UnsafeBufferPointer(parameters), derivative)
        } catch {
            record(error, at: t)
            return -1
        }
        return checkFinite(derivative, at: t)
    }

    fileprivate func evaluateJacobian(_ t: Double, _ y: N_Vector, _ matrix: SUNMatrix) -> Int32 {
        guard let jacobian else { return -1 }
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: dimension)
        let entries = UnsafeMutableBufferPointer(start: nde_dense_data(matrix), count: dimension * dimension)
        do {
            try jacobian(t, state, UnsafeBufferPointer(parameters), entries)
        } catch {
            record(error, at: t)
            return -1
        }
        return checkFinite(entries, at: t)
    }

    /// A non-finite integrand is recoverable, like a non-finite right-hand side: the quadratures
    /// take part in the error test, so CVODE shrinks the step.
    fileprivate func evaluateIntegrand(_ t: Double, _ y: N_Vector, _ rdot: N_Vector) -> Int32 {
        guard let integrand else { return -1 }
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: dimension)
        let values = UnsafeMutableBufferPointer(start: nde_nvector_data(rdot), count: integrand.count)
        integrand.evaluate(t, state, values)
        return checkFinite(values, at: t)
    }

    /// 0 when every value is finite; otherwise notes the time and returns 1 (recoverable: CVODE
    /// retries with a smaller step, and the time names the failure if it never recovers).
    @inline(__always)
    func checkFinite(_ values: UnsafeMutableBufferPointer<Double>, at t: Double) -> Int32 {
        for value in values where !value.isFinite {
            nonFiniteTime = t
            return 1
        }
        return 0
    }

    /// A non-finite event function is fatal, not recoverable: CVODE's root finder compares signs,
    /// and NaN comparisons can keep it bisecting forever.
    fileprivate func evaluateEventFunctions(_ t: Double, _ y: N_Vector, _ gout: UnsafeMutablePointer<Double>) -> Int32 {
        guard let eventFunctions else { return -1 }
        let state = UnsafeBufferPointer(start: nde_nvector_data(y), count: dimension)
        let values = UnsafeMutableBufferPointer(start: gout, count: eventCount)
        do {
            try eventFunctions(t, state, UnsafeBufferPointer(parameters), values)
        } catch {
            record(error, at: t)
            return -1
        }
        for value in values where !value.isFinite {
            record(ODEError.nonFiniteEventFunction(time: t), at: t)
            return -1
        }
        return 0
    }

    fileprivate func handleError(code: Int32, message text: UnsafeMutablePointer<CChar>?) {
        // Warnings (CV_WARNING, e.g. "t + h = t") are informational; the failure that may follow
        // carries its own message.
        guard code != CV_WARNING, let text else { return }
        message = String(cString: text)
    }
}

// MARK: C trampolines

@inline(__always)
private func callbacks(_ userData: UnsafeMutableRawPointer?) -> CVODECallbacks {
    // CVODE passes back the pointer the session registered; the session keeps the object alive.
    Unmanaged<CVODECallbacks>.fromOpaque(userData!).takeUnretainedValue()
}

let cvodeRightHandSide: CVRhsFn = { t, y, ydot, userData in
    callbacks(userData).evaluateRightHandSide(t, y!, ydot!)
}

let cvodeJacobian: CVLsJacFn = { t, y, _, matrix, userData, _, _, _ in
    callbacks(userData).evaluateJacobian(t, y!, matrix!)
}

let cvodeQuadratureFunction: CVQuadRhsFn = { t, y, rdot, userData in
    callbacks(userData).evaluateIntegrand(t, y!, rdot!)
}

let cvodeRootFunction: CVRootFn = { t, y, gout, userData in
    callbacks(userData).evaluateEventFunctions(t, y!, gout!)
}

let cvodeErrorHandler: CVErrHandlerFn = { code, _, _, message, userData in
    callbacks(userData).handleError(code: code, message: message)
}
