/// A system together with everything a solve needs: initial state, parameters and time span.
///
/// Building a problem validates it: lengths, finiteness and the model's own parameter domain are
/// checked here, before any integrator allocates memory or touches C.
public struct ODEProblem<System: ODESystem>: Sendable {
    /// The model.
    public let system: System
    /// y(t₀): finite, one entry per state variable.
    public private(set) var initialState: [Double]
    /// θ: finite, in the model's domain, one entry per parameter name.
    public private(set) var parameters: [Double]
    /// t₀.
    public let startTime: Double
    /// The end of the span; may be before t₀ for integrators that run backward (dopri5, CVODE).
    public let endTime: Double

    /// Builds and validates a problem; `nil` state or parameters take the system's defaults.
    ///
    /// - Throws: ``ODEError`` naming the first bad value: a wrong length, a non-finite entry, a
    ///   parameter outside the model's domain (``ODESystem/validate(parameters:)``), or a non-finite span.
    public init(
        system: System,
        initialState: [Double]? = nil,
        parameters: [Double]? = nil,
        timeSpan: (start: Double, end: Double)
    ) throws(ODEError) {
        self.system = system
        self.initialState = initialState ?? system.defaultInitialState
        self.parameters = parameters ?? system.defaultParameters
        self.startTime = timeSpan.start
        self.endTime = timeSpan.end
        try Self.validate(system: system, initialState: self.initialState, parameters: self.parameters)
        guard startTime.isFinite, endTime.isFinite else {
            throw .invalidTimeSpan(start: startTime, end: endTime, reason: "both ends must be finite")
        }
    }

    /// Sets the named parameter, validating the new value.
    public mutating func setParameter(_ name: String, to value: Double) throws(ODEError) {
        let index = try system.parameterIndex(named: name)
        var updated = parameters
        updated[index] = value
        try Self.validate(system: system, initialState: initialState, parameters: updated)
        parameters = updated
    }

    /// Replaces the whole parameter vector, validating it.
    public mutating func setParameters(_ values: [Double]) throws(ODEError) {
        try Self.validate(system: system, initialState: initialState, parameters: values)
        parameters = values
    }

    /// Replaces the initial state, validating it.
    public mutating func setInitialState(_ values: [Double]) throws(ODEError) {
        try Self.validate(system: system, initialState: values, parameters: parameters)
        initialState = values
    }

    /// Direction of integration: +1 forward, −1 backward, 0 for an empty span.
    public var direction: Double {
        endTime > startTime ? 1 : (endTime < startTime ? -1 : 0)
    }

    private static func validate(
        system: System, initialState: [Double], parameters: [Double]
    ) throws(ODEError) {
        guard initialState.count == system.dimension else {
            throw .dimensionMismatch(
                what: "initial state of \(system.name)", expected: system.dimension, actual: initialState.count)
        }
        let names = system.parameterNames
        guard parameters.count == names.count else {
            throw .dimensionMismatch(
                what: "parameter vector of \(system.name)", expected: names.count, actual: parameters.count)
        }
        for (index, value) in initialState.enumerated() where !value.isFinite {
            throw .nonFiniteInitialState(index: index, value: value)
        }
        for (index, value) in parameters.enumerated() where !value.isFinite {
            throw .nonFiniteParameter(name: names[index], value: value)
        }
        try system.validate(parameters: parameters)
    }
}
