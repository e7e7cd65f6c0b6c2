import NeuroODE

/// y₁' = ω y₂, y₂' = −ω y₁: a rotation, volume-preserving and exactly reversible — the control
/// against which the neurons' and ROBER's backward errors are judged.
struct Rotation: ODESystem {
    var name: String { "rotation" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["omega"] }
    var defaultParameters: [Double] { [1] }
    var defaultInitialState: [Double] { [1, 0] }
    var stateNames: [String] { ["y1", "y2"] }

    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into d: UnsafeMutableBufferPointer<Double>
    ) {
        d[0] = p[0] * y[1]
        d[1] = -p[0] * y[0]
    }
}
