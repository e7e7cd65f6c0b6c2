import NeuroODE

/// y₁' = ω y₂, y₂' = −ω y₁: a rotation, volume-preserving and exactly reversible — the control
/// against which the neurons' and ROBER's backward errors are judged.
public struct Rotation: ODESystem {
    public init() {}

    public var name: String { "rotation" }
    public var dimension: Int { 2 }
    public var parameterNames: [String] { ["omega"] }
    public var defaultParameters: [Double] { [1] }
    public var defaultInitialState: [Double] { [1, 0] }
    public var stateNames: [String] { ["y1", "y2"] }

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into d: UnsafeMutableBufferPointer<Double>
    ) {
        d[0] = p[0] * y[1]
        d[1] = -p[0] * y[0]
    }
}
