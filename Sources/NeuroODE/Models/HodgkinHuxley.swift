import Foundation

/// The Hodgkin–Huxley squid giant axon (SCIENCE.md "Models"): a voltage V (mV) and three gates m, h, n.
///
///     C dV/dt = I − gNa m³h (V − ENa) − gK n⁴ (V − EK) − gL (V − EL)
///     dx/dt   = αx(V)(1 − x) − βx(V) x          for x ∈ {m, h, n}
///
/// with the classic rates (V in mV, rates in 1/ms; the 1952 fits shifted so that rest is −65 mV):
///
///     αm = 0.1 (V + 40) / (1 − exp(−(V + 40)/10))     βm = 4 exp(−(V + 65)/18)
///     αh = 0.07 exp(−(V + 65)/20)                      βh = 1 / (1 + exp(−(V + 35)/10))
///     αn = 0.01 (V + 55) / (1 − exp(−(V + 55)/10))     βn = 0.125 exp(−(V + 65)/80)
///
/// αm and αn are 0/0 at V = −40 and V = −55; both are the function u/(1 − e⁻ᵘ), whose singularity
/// is removable (the limit is 1), and `linearRate(_:)` evaluates it by its Taylor series near
/// u = 0, so the rates and their slopes are finite and smooth everywhere.
///
/// Parameters are `[C, gNa, gK, gL, ENa, EK, EL, I]` with the standard values C = 1, gNa = 120,
/// gK = 36, gL = 0.3, ENa = 50, EK = −77, EL = −54.387. The default injected current is
/// I = 10 µA/cm²: just above the current (≈ 9.8) where the rest state loses stability, so the axon
/// fires tonically (about 68 Hz, Validation/hh_reference.py) from any start, with no coexisting
/// stable rest state that a perturbation could fall into. The rate constants are fixed (6.3 °C
/// kinetics, no temperature factor).
public struct HodgkinHuxley: ConductanceBasedSystem, JacobianProviding, VectorJacobianProviding {
    /// The parameter names in vector order: `[C, gNa, gK, gL, ENa, EK, EL, I]`
    /// (µF/cm², mS/cm² ×3, mV ×3, µA/cm²).
    public static let parameterNames = ["C", "gNa", "gK", "gL", "ENa", "EK", "EL", "I"]

    /// The resting potential of the initial state (mV).
    public static let restingPotential = -65.0

    public let defaultParameters: [Double]

    /// The standard squid axon with injected current `current` (µA/cm²).
    public init(current: Double = 10) {
        defaultParameters = [1, 120, 36, 0.3, 50, -77, -54.387, current]
    }

    public var name: String { "hodgkin-huxley" }
    public var dimension: Int { 4 }
    public var parameterNames: [String] { Self.parameterNames }
    public var stateNames: [String] { ["V", "m", "h", "n"] }
    public var voltageIndices: [Int] { [0] }
    public var voltageCount: Int { 1 }
    /// Gates are probabilities; ±200 mV is far outside anything the membrane reaches (its
    /// reversal potentials lie within ±150 mV), so leaving it means the step is unstable.
    public var plausibleVoltageRange: ClosedRange<Double>? { -200...200 }
    public var plausibleGateRange: ClosedRange<Double>? { 0...1 }

    /// V = −65 mV with every gate at its steady state x∞ = α/(α + β) there.
    public var defaultInitialState: [Double] {
        let r = Rates(v: Self.restingPotential)
        return [
            Self.restingPotential,
            r.alphaM / (r.alphaM + r.betaM),
            r.alphaH / (r.alphaH + r.betaH),
            r.alphaN / (r.alphaN + r.betaN),
        ]
    }

    /// Requires C > 0 and non-negative conductances; throws ``ODEError/invalidParameter(name:value:reason:)``
    /// naming the first bad one.
    public func validate(parameters p: [Double]) throws(ODEError) {
        let names = Self.parameterNames
        if !(p[0] > 0) { throw .invalidParameter(name: names[0], value: p[0], reason: "capacitance must be positive") }
        for k in 1...3 where p[k] < 0 {
            throw .invalidParameter(name: names[k], value: p[k], reason: "conductances must be non-negative")
        }
    }

    // MARK: Right-hand side

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        let v = y[0], m = y[1], h = y[2], n = y[3]
        let r = Rates(v: v)
        let gNa = p[1] * m * m * m * h, gK = p[2] * (n * n) * (n * n)
        dydt[0] = (p[7] - gNa * (v - p[4]) - gK * (v - p[5]) - p[3] * (v - p[6])) / p[0]
        dydt[1] = r.alphaM * (1 - m) - r.betaM * m
        dydt[2] = r.alphaH * (1 - h) - r.betaH * h
        dydt[3] = r.alphaN * (1 - n) - r.betaN * n
    }

    // MARK: Conductance-based structure (leapfrog)

    public func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { p[0] }

    public func evaluateGateKinetics(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
    ) {
        // α(1 − x) − βx = (x∞ − x)/τ with x∞ = α/(α + β), τ = 1/(α + β).
        let r = Rates(v: voltages[0])
        let sumM = r.alphaM + r.betaM, sumH = r.alphaH + r.betaH, sumN = r.alphaN + r.betaN
        steadyState[0] = r.alphaM / sumM
        steadyState[1] = r.alphaH / sumH
        steadyState[2] = r.alphaN / sumN
        timeConstant[0] = 1 / sumM
        timeConstant[1] = 1 / sumH
        timeConstant[2] = 1 / sumN
    }

    public func evaluateMembraneCoefficients(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates x: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
    ) {
        let m = x[0], h = x[1], n = x[2]
        let gNa = p[1] * m * m * m * h, gK = p[2] * (n * n) * (n * n)
        conductance[0] = gNa + gK + p[3]
        drive[0] = gNa * p[4] + gK * p[5] + p[3] * p[6] + p[7]
    }

    // MARK: Derivatives

    public func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        let d = Derivatives(y: y, p: p)
        for k in 0..<16 { jacobian[k] = 0 }
        // Column-major: entry (i, j) at i + 4j.
        jacobian[0] = d.dVdotdV
        jacobian[4] = d.dVdotdM
        jacobian[8] = d.dVdotdH
        jacobian[12] = d.dVdotdN
        jacobian[1] = d.dMdotdV
        jacobian[2] = d.dHdotdV
        jacobian[3] = d.dNdotdV
        jacobian[5] = d.dMdotdM
        jacobian[10] = d.dHdotdH
        jacobian[15] = d.dNdotdN
    }

    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        let d = Derivatives(y: y, p: p)
        let lv = lambda[0], lm = lambda[1], lh = lambda[2], ln = lambda[3]
        stateCotangent[0] += lv * d.dVdotdV + lm * d.dMdotdV + lh * d.dHdotdV + ln * d.dNdotdV
        stateCotangent[1] += lv * d.dVdotdM + lm * d.dMdotdM
        stateCotangent[2] += lv * d.dVdotdH + lh * d.dHdotdH
        stateCotangent[3] += lv * d.dVdotdN + ln * d.dNdotdN
        // Only V̇ depends on the parameters: V̇ = (I − gNa·a(V − ENa) − gK·b(V − EK) − gL(V − EL))/C
        // with a = m³h, b = n⁴.
        let v = y[0], lvc = lv / p[0]
        g[0] -= lvc * d.vDot
        g[1] -= lvc * d.sodiumGating * (v - p[4])
        g[2] -= lvc * d.potassiumGating * (v - p[5])
        g[3] -= lvc * (v - p[6])
        g[4] += lvc * p[1] * d.sodiumGating
        g[5] += lvc * p[2] * d.potassiumGating
        g[6] += lvc * p[3]
        g[7] += lvc
    }

    // MARK: Rate functions

    /// u / (1 − e⁻ᵘ) and its derivative, finite at the removable singularity u = 0.
    ///
    /// Away from 0 the closed forms use `expm1`, which keeps 1 − e⁻ᵘ accurate for small u; the
    /// derivative is written as (f/u)(1 − u/(eᵘ − 1)) so that it stays finite when e^|u| overflows.
    /// Its last factor still cancels like |u|, so for |u| < 0.1 (within 1 mV of the singular
    /// voltage) both come from the Bernoulli series f(u) = Σ Bₙ(−u)ⁿ/n!, truncated where the next
    /// term is below 10⁻¹⁶ relative; the two branches agree to rounding at |u| = 0.1.
    @inline(__always)
    static func linearRate(_ u: Double) -> (value: Double, slope: Double) {
        if abs(u) < 0.1 {
            let u2 = u * u
            let value = 1 + u / 2 + u2 * (1.0 / 12 + u2 * (-1.0 / 720 + u2 * (1.0 / 30240 - u2 / 1_209_600)))
            let slope = 0.5 + u * (1.0 / 6 + u2 * (-1.0 / 180 + u2 * (1.0 / 5040 - u2 / 151_200)))
            return (value, slope)
        }
        let value = u / -expm1(-u)
        return (value, value / u * (1 - u / expm1(u)))
    }

    /// The six opening and closing rates (1/ms) at voltage `v`, and their slopes.
    struct Rates {
        let alphaM, betaM, alphaH, betaH, alphaN, betaN: Double
        /// u/(1 − e⁻ᵘ) slopes for αm and αn, kept for ``Derivatives``.
        let linearSlopeM, linearSlopeN: Double

        @inline(__always)
        init(v: Double) {
            // αm = 0.1(V + 40)/(1 − e^{−(V+40)/10}) = f((V + 40)/10); αn = 0.1 f((V + 55)/10).
            let fm = HodgkinHuxley.linearRate((v + 40) / 10)
            let fn = HodgkinHuxley.linearRate((v + 55) / 10)
            alphaM = fm.value
            linearSlopeM = fm.slope
            alphaN = 0.1 * fn.value
            linearSlopeN = fn.slope
            betaM = 4 * exp(-(v + 65) / 18)
            alphaH = 0.07 * exp(-(v + 65) / 20)
            betaH = 1 / (1 + exp(-(v + 35) / 10))
            betaN = 0.125 * exp(-(v + 65) / 80)
        }

        /// dαm/dV, dβm/dV, dαh/dV, dβh/dV, dαn/dV, dβn/dV.
        var slopes: (alphaM: Double, betaM: Double, alphaH: Double, betaH: Double, alphaN: Double, betaN: Double) {
            (linearSlopeM / 10, -betaM / 18, -alphaH / 20, betaH * (1 - betaH) / 10,
             0.01 * linearSlopeN, -betaN / 80)
        }
    }

    /// The right-hand side's first derivatives with respect to the state, and the pieces the
    /// parameter pullback reuses.
    struct Derivatives {
        let vDot, sodiumGating, potassiumGating: Double
        let dVdotdV, dVdotdM, dVdotdH, dVdotdN: Double
        let dMdotdV, dMdotdM, dHdotdV, dHdotdH, dNdotdV, dNdotdN: Double

        @inline(__always)
        init(y: UnsafeBufferPointer<Double>, p: UnsafeBufferPointer<Double>) {
            let v = y[0], m = y[1], h = y[2], n = y[3], c = p[0]
            let r = Rates(v: v), s = r.slopes
            let m2 = m * m, n3 = n * n * n
            sodiumGating = m2 * m * h
            potassiumGating = n3 * n
            let gNa = p[1] * sodiumGating, gK = p[2] * potassiumGating
            vDot = (p[7] - gNa * (v - p[4]) - gK * (v - p[5]) - p[3] * (v - p[6])) / c
            dVdotdV = -(gNa + gK + p[3]) / c
            dVdotdM = -3 * p[1] * m2 * h * (v - p[4]) / c
            dVdotdH = -p[1] * m2 * m * (v - p[4]) / c
            dVdotdN = -4 * p[2] * n3 * (v - p[5]) / c
            dMdotdV = s.alphaM * (1 - m) - s.betaM * m
            dHdotdV = s.alphaH * (1 - h) - s.betaH * h
            dNdotdV = s.alphaN * (1 - n) - s.betaN * n
            dMdotdM = -(r.alphaM + r.betaM)
            dHdotdH = -(r.alphaH + r.betaH)
            dNdotdN = -(r.alphaN + r.betaN)
        }
    }
}

extension HodgkinHuxley: ConductanceBasedPullbacks {
    public func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        // x∞ = α/(α + β), τ = 1/(α + β): dx∞/dV = (α′β − αβ′)/(α + β)², dτ/dV = −(α′ + β′)/(α + β)².
        // The rates have no parameters, so only V̄ receives anything.
        let r = Rates(v: voltages[0]), s = r.slopes
        func gate(_ k: Int, _ alpha: Double, _ beta: Double, _ dAlpha: Double, _ dBeta: Double) -> Double {
            let sum2 = (alpha + beta) * (alpha + beta)
            return (steadyStateCotangent[k] * (dAlpha * beta - alpha * dBeta) - timeConstantCotangent[k] * (dAlpha + dBeta)) / sum2
        }
        voltageCotangent[0] += gate(0, r.alphaM, r.betaM, s.alphaM, s.betaM) + gate(1, r.alphaH, r.betaH, s.alphaH, s.betaH)
            + gate(2, r.alphaN, r.betaN, s.alphaN, s.betaN)
    }

    public func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates x: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent g: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        // G = gNa m³h + gK n⁴ + gL;  E = gNa m³h ENa + gK n⁴ EK + gL EL + I.
        let m = x[0], h = x[1], n = x[2]
        let gBar = conductanceCotangent[0], eBar = driveCotangent[0]
        let sodium = (gBar + eBar * p[4]) * p[1], potassium = (gBar + eBar * p[5]) * p[2]
        gateCotangent[0] += sodium * 3 * m * m * h
        gateCotangent[1] += sodium * m * m * m
        gateCotangent[2] += potassium * 4 * n * n * n
        let m3h = m * m * m * h, n4 = (n * n) * (n * n)
        g[1] += (gBar + eBar * p[4]) * m3h
        g[2] += (gBar + eBar * p[5]) * n4
        g[3] += gBar + eBar * p[6]
        g[4] += eBar * p[1] * m3h
        g[5] += eBar * p[2] * n4
        g[6] += eBar * p[3]
        g[7] += eBar
    }

    public func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        parameterCotangent[0] += cotangent
    }
}
