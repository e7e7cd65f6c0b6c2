/// Robertson's chemical kinetics problem (ROBER), the classic stiff test system (SCIENCE.md "Models"):
///
///     y1' = −k1·y1 + k3·y2·y3
///     y2' =  k1·y1 − k2·y2² − k3·y2·y3
///     y3' =  k2·y2²
///
/// with k1 = 0.04, k2 = 3·10⁷, k3 = 10⁴ and y(0) = (1, 0, 0). The rate constants span nine orders
/// of magnitude: an explicit method's stable step stays bounded by the fast y2 relaxation
/// (≈ 1/(2k2·y2 + k3·y3)) while the solution keeps evolving up to t = 4·10¹⁰, which makes ROBER the
/// reference problem for CVODE BDF. The total y1 + y2 + y3 is conserved (the right-hand sides sum
/// to zero), which tests use as an accuracy check independent of any reference solution.
public struct Rober: JacobianProviding, VectorJacobianProviding {
    /// The parameter names in vector order: the rate constants `[k1, k2, k3]`.
    public static let parameterNames = ["k1", "k2", "k3"]

    /// ROBER with the classic rate constants as ``defaultParameters`` and y(0) = (1, 0, 0).
    public init() {}

    public var name: String { "rober" }
    public var dimension: Int { 3 }
    public var parameterNames: [String] { Self.parameterNames }
    public var defaultParameters: [Double] { [0.04, 3e7, 1e4] }
    public var defaultInitialState: [Double] { [1, 0, 0] }
    public var stateNames: [String] { ["y1", "y2", "y3"] }

    /// Negative rate constants would turn the mass-action kinetics into a source of species that
    /// cannot exist; zero rates are allowed (they switch a reaction off).
    public func validate(parameters p: [Double]) throws(ODEError) {
        for (name, value) in zip(Self.parameterNames, p) where value < 0 {
            throw .invalidParameter(name: name, value: value, reason: "rate constants must be non-negative")
        }
    }

    @inlinable
    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        let decay = p[0] * y[0]                // k1·y1
        let dimerisation = p[1] * y[1] * y[1]  // k2·y2²
        let catalysis = p[2] * y[1] * y[2]     // k3·y2·y3
        let dy1 = -decay + catalysis
        let dy3 = dimerisation
        // y2' = k1·y1 − k2·y2² − k3·y2·y3, written as −(y1' + y3') so that the three derivatives
        // sum to exactly zero in floating point and mass is conserved to rounding. This is also
        // how SUNDIALS' cvRoberts_dns example writes it, which the tests reproduce.
        dydt[0] = dy1
        dydt[1] = -(dy1 + dy3)
        dydt[2] = dy3
    }

    /// ∂f/∂y, column-major (entry (i, j) at i + 3j).
    public func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        let k1 = p[0], k2 = p[1], k3 = p[2], y2 = y[1], y3 = y[2]
        // Column 0: ∂f/∂y1
        jacobian[0] = -k1
        jacobian[1] = k1
        jacobian[2] = 0
        // Column 1: ∂f/∂y2
        jacobian[3] = k3 * y3
        jacobian[4] = -2 * k2 * y2 - k3 * y3
        jacobian[5] = 2 * k2 * y2
        // Column 2: ∂f/∂y3
        jacobian[6] = k3 * y2
        jacobian[7] = -k3 * y2
        jacobian[8] = 0
    }

    /// Adds λᵀ∂f/∂y and λᵀ∂f/∂θ. Each reaction appears in two equations with opposite signs,
    /// so the pullback works per reaction on the difference of the two cotangents it connects.
    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        let k1 = p[0], k2 = p[1], k3 = p[2]
        let y1 = y[0], y2 = y[1], y3 = y[2]
        // Reaction 1 (rate k1·y1) moves mass 1 → 2; reaction 2 (k2·y2²) 2 → 3; reaction 3 (k3·y2·y3) 2 → 1.
        let oneToTwo = lambda[1] - lambda[0]
        let twoToThree = lambda[2] - lambda[1]
        let twoToOne = lambda[0] - lambda[1]
        stateCotangent[0] += oneToTwo * k1
        stateCotangent[1] += twoToThree * 2 * k2 * y2 + twoToOne * k3 * y3
        stateCotangent[2] += twoToOne * k3 * y2
        parameterCotangent[0] += oneToTwo * y1
        parameterCotangent[1] += twoToThree * y2 * y2
        parameterCotangent[2] += twoToOne * y2 * y3
    }
}
