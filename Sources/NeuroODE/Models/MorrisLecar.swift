import Foundation

/// The Morris–Lecar neuron (SCIENCE.md "Models"): a voltage V (mV) and a potassium gate w.
///
///     C dV/dt = gL(VL − V) + gCa m∞(V)(VCa − V) + gK w(VK − V) + I
///     dw/dt   = φ (w∞(V) − w) / τw(V)
///
/// with m∞ = ½(1 + tanh((V − V1)/V2)), w∞ = ½(1 + tanh((V − V3)/V4)), τw = 1/cosh((V − V3)/(2V4)).
/// Units: ms, mV, µA/cm², µF/cm², mS/cm². Every constant is a parameter, so gradients can be taken
/// with respect to any of them; the presets only choose their values.
public struct MorrisLecar: ConductanceBasedSystem, JacobianProviding, VectorJacobianProviding {
    /// Parameter sets from SCIENCE.md. Common: C=20, gL=2, gCa=4, gK=8, VL=−60, VCa=120, VK=−84,
    /// V1=−1.2, V2=18.
    public enum Preset: String, CaseIterable, Sendable, Codable {
        /// Paper appendix (Hopf onset): φ=0.04, V3=2, V4=30; silent at I ≤ 95, tonic at I = 100.
        case hopf
        /// The authors' network code (SNIC onset near I ≈ 39): φ=2/30, V3=12, V4=17.
        case snic
        /// Faster spikes: the Hopf set with a larger φ. The paper's "φ × 10" (φ = 0.4) is silent
        /// at the operating current; see ``explosivePhi`` for the value used and why.
        case explosive
        /// Faster spikes for networks: the `snic` set with a larger φ (SCIENCE.md's evidence case B).
        /// Unlike `explosive` it fires at the network's operating currents; see ``snicExplosivePhi``.
        case snicExplosive = "snic-explosive"
    }

    /// φ for the `explosive` preset: the largest φ on a 0.01 grid for which the Hopf set still
    /// fires tonically at I = 100.
    ///
    /// Validation/explosive_phi.py (SciPy, from the turn-off initial state) found that the I = 100
    /// limit cycle exists only for φ below about 0.0638: every grid value from 0.07 up to the
    /// paper's 0.4 settles on the rest state (V ≈ −24.5 mV). So the strongest usable setting is
    /// only 1.5 × the `hopf` φ, and it shortens the interspike interval from 90.7 to 79.6 ms.
    /// Near that edge the cycle coexists with a stable rest state: started close to rest, the
    /// neuron stays silent, so this preset needs a start on or near the cycle (the default state).
    public static let explosivePhi = 0.06

    /// φ for the `snicExplosive` preset: twice the `snic` φ, the largest multiple of 2/30 on a 0.1
    /// grid for which the `snic` neuron still fires tonically at every current of the evidence
    /// network's operating range, I = 43.6 (no input) … 80.
    ///
    /// The evidence network drives its neurons with I = 39.9 + 36.75·(0.1 + W_in u + W_rec T),
    /// where the Hopf-based `explosive` neuron is silent. Validation/explosive_network_phi.py
    /// (SciPy) scans φ = f · 2/30: the SNIC onset (I ≈ 39.7) does not depend on φ, but a larger φ
    /// pulls the depolarization block down: at f = 2 tonic firing ends at I ≈ 81.3, at I = 80 it
    /// ends at f ≈ 2.04, and the paper's f = 10 is silent at every current. At I = 60, f = 2
    /// shortens the interspike interval from 57.7 to 40.1 ms and the time above the synapse
    /// threshold (−3 mV) per spike from 15.8 to 11.9 ms; the upstroke is not steeper (peak dV/dt
    /// 9.95 vs 11.3 mV/ms), so "sharper" here means shorter and more frequent, not faster-rising.
    public static let snicExplosivePhi = 2 * (2.0 / 30.0)

    /// The parameter names in vector order: C (µF/cm²), gL, gCa, gK (mS/cm²), VL, VCa, VK, V1–V4 (mV),
    /// φ (dimensionless rate factor) and I (µA/cm²).
    public static let parameterNames = ["C", "gL", "gCa", "gK", "VL", "VCa", "VK", "V1", "V2", "V3", "V4", "phi", "I"]

    /// The parameter set that produced ``defaultParameters``.
    public let preset: Preset
    public let defaultParameters: [Double]

    /// A neuron with the constants of `preset` and, if given, the injected current `current`
    /// (µA/cm²) in place of the preset's own (100 for `hopf`/`explosive`, 40 for `snic`/`snicExplosive`).
    public init(preset: Preset = .hopf, current: Double? = nil) {
        self.preset = preset
        var p: [Double] = [20, 2, 4, 8, -60, 120, -84, -1.2, 18]
        switch preset {
        case .hopf: p += [2, 30, 0.04, 100]
        case .snic: p += [12, 17, 2.0 / 30.0, 40]
        case .explosive: p += [2, 30, Self.explosivePhi, 100]
        case .snicExplosive: p += [12, 17, Self.snicExplosivePhi, 40]
        }
        if let current { p[12] = current }
        defaultParameters = p
    }

    public var name: String { "morris-lecar" }
    public var dimension: Int { 2 }
    public var parameterNames: [String] { Self.parameterNames }
    public var stateNames: [String] { ["V", "w"] }
    public var voltageIndices: [Int] { [0] }
    public var voltageCount: Int { 1 }
    /// Gates are probabilities; ±200 mV is far outside anything the membrane reaches (its
    /// reversal potentials lie within ±150 mV), so leaving it means the step is unstable.
    public var plausibleVoltageRange: ClosedRange<Double>? { -200...200 }
    public var plausibleGateRange: ClosedRange<Double>? { 0...1 }
    /// The turn-off task's initial state (SCIENCE.md): a point on the I = 100 limit cycle.
    public var defaultInitialState: [Double] { [-41.84, 0.5282] }

    /// Requires C > 0, non-negative conductances, positive slope factors V2, V4 and φ > 0; throws
    /// ``ODEError/invalidParameter(name:value:reason:)`` naming the first bad one.
    public func validate(parameters p: [Double]) throws(ODEError) {
        try Self.validateNeuronParameters(p, offset: 0)
    }

    /// Domain checks shared with networks of Morris–Lecar neurons, whose neuron constants start
    /// at `offset` in the same order as ``parameterNames-swift.type.property`` (without I).
    static func validateNeuronParameters(_ p: [Double], offset o: Int) throws(ODEError) {
        let names = parameterNames
        if !(p[o] > 0) { throw .invalidParameter(name: names[0], value: p[o], reason: "capacitance must be positive") }
        for k in 1...3 where p[o + k] < 0 {
            throw .invalidParameter(name: names[k], value: p[o + k], reason: "conductances must be non-negative")
        }
        for k in [8, 10] where !(p[o + k] > 0) {
            throw .invalidParameter(name: names[k], value: p[o + k], reason: "slope factors must be positive")
        }
        if !(p[o + 11] > 0) { throw .invalidParameter(name: names[11], value: p[o + 11], reason: "phi must be positive") }
    }

    // MARK: Right-hand side

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        let k = Kinetics(v: y[0], p: p)
        let v = y[0], w = y[1]
        dydt[0] = (p[1] * (p[4] - v) + p[2] * k.mInf * (p[5] - v) + p[3] * w * (p[6] - v) + p[12]) / p[0]
        dydt[1] = p[11] * k.coshZ * (k.wInf - w)
    }

    // MARK: Conductance-based structure (leapfrog)

    public func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { p[0] }

    public func evaluateGateKinetics(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
    ) {
        let k = Kinetics(v: voltages[0], p: p)
        steadyState[0] = k.wInf
        timeConstant[0] = 1 / (p[11] * k.coshZ)
    }

    public func evaluateMembraneCoefficients(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
    ) {
        let k = Kinetics(v: voltages[0], p: p)
        let gCa = p[2] * k.mInf, gK = p[3] * gates[0]
        conductance[0] = p[1] + gCa + gK
        drive[0] = p[1] * p[4] + gCa * p[5] + gK * p[6] + p[12]
    }

    // MARK: Derivatives

    public func evaluateJacobian(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into jacobian: UnsafeMutableBufferPointer<Double>
    ) {
        let d = Derivatives(y: y, p: p)
        jacobian[0] = d.dVdotdV   // (0, 0)
        jacobian[1] = d.dWdotdV   // (1, 0)
        jacobian[2] = d.dVdotdW   // (0, 1)
        jacobian[3] = d.dWdotdW   // (1, 1)
    }

    public func accumulatePullback(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        let d = Derivatives(y: y, p: p)
        let lv = lambda[0], lw = lambda[1]
        stateCotangent[0] += lv * d.dVdotdV + lw * d.dWdotdV
        stateCotangent[1] += lv * d.dVdotdW + lw * d.dWdotdW
        let v = y[0], w = y[1], c = p[0], k = d.kinetics
        let lvc = lv / c
        let numerator = p[1] * (p[4] - v) + p[2] * k.mInf * (p[5] - v) + p[3] * w * (p[6] - v) + p[12]
        g[0] -= lvc * numerator / c
        g[1] += lvc * (p[4] - v)
        g[2] += lvc * k.mInf * (p[5] - v)
        g[3] += lvc * w * (p[6] - v)
        g[4] += lvc * p[1]
        g[5] += lvc * p[2] * k.mInf
        g[6] += lvc * p[3] * w
        let caDrive = lvc * p[2] * (p[5] - v)
        g[7] -= caDrive * k.dmInf
        g[8] -= caDrive * k.dmInf * (v - p[7]) / p[8]
        // w' = φ cosh(z)(w∞ − w) with z = (V − V3)/(2V4); ∂z/∂V3 = −1/(2V4), ∂z/∂V4 = −z/V4.
        let phi = p[11], gap = k.wInf - w
        let dWdotdZ = phi * (k.sinhZ * gap + k.coshZ * 2 * k.dwInfdArg)  // w∞ = ½(1+tanh(2z))
        g[9] -= lw * dWdotdZ / (2 * p[10])
        g[10] -= lw * dWdotdZ * k.z / p[10]
        g[11] += lw * k.coshZ * gap
        g[12] += lvc
    }

    /// Voltage-dependent rate functions, computed once per evaluation.
    struct Kinetics {
        let mInf, dmInf, z, coshZ, sinhZ, wInf, dwInfdArg: Double

        @inline(__always)
        init(v: Double, p: UnsafeBufferPointer<Double>) {
            let tm = tanh((v - p[7]) / p[8])
            mInf = 0.5 * (1 + tm)
            dmInf = 0.5 * (1 - tm * tm) / p[8]
            z = (v - p[9]) / (2 * p[10])
            // One exponential gives cosh z, sinh z and tanh 2z.
            let e = exp(z), ei = 1 / e
            coshZ = 0.5 * (e + ei)
            sinhZ = 0.5 * (e - ei)
            let tw = tanh(2 * z)
            wInf = 0.5 * (1 + tw)
            dwInfdArg = 0.5 * (1 - tw * tw)  // d w∞ / d(2z)
        }
    }

    /// First derivatives of the right-hand side with respect to the state.
    struct Derivatives {
        let kinetics: Kinetics
        let dVdotdV, dVdotdW, dWdotdV, dWdotdW: Double

        @inline(__always)
        init(y: UnsafeBufferPointer<Double>, p: UnsafeBufferPointer<Double>) {
            let v = y[0], w = y[1], c = p[0]
            let k = Kinetics(v: v, p: p)
            kinetics = k
            dVdotdV = (-p[1] - p[2] * k.mInf + p[2] * k.dmInf * (p[5] - v) - p[3] * w) / c
            dVdotdW = p[3] * (p[6] - v) / c
            let phi = p[11]
            let dzdV = 1 / (2 * p[10])
            dWdotdV = phi * (k.sinhZ * dzdV * (k.wInf - w) + k.coshZ * k.dwInfdArg * 2 * dzdV)
            dWdotdW = -phi * k.coshZ
        }
    }
}

extension MorrisLecar: ConductanceBasedPullbacks {
    public func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent g: UnsafeMutableBufferPointer<Double>
    ) {
        let k = Kinetics(v: voltages[0], p: p)
        let phi = p[11], v4 = p[10]
        let tau = 1 / (phi * k.coshZ)
        // w∞ = ½(1 + tanh 2z) and τ = 1/(φ cosh z), both functions of z = (V − V3)/(2V4).
        let dz = steadyStateCotangent[0] * 2 * k.dwInfdArg - timeConstantCotangent[0] * tau * (k.sinhZ / k.coshZ)
        voltageCotangent[0] += dz / (2 * v4)
        g[9] -= dz / (2 * v4)
        g[10] -= dz * k.z / v4
        g[11] -= timeConstantCotangent[0] * tau / phi
    }

    public func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent g: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let k = Kinetics(v: voltages[0], p: p)
        let gBar = conductanceCotangent[0], eBar = driveCotangent[0], w = gates[0]
        // G = gL + gCa m∞ + gK w;  E = gL VL + gCa m∞ VCa + gK w VK + I.
        let mBar = gBar * p[2] + eBar * p[2] * p[5]
        voltageCotangent[0] += mBar * k.dmInf
        gateCotangent[0] += gBar * p[3] + eBar * p[3] * p[6]
        g[1] += gBar + eBar * p[4]
        g[2] += (gBar + eBar * p[5]) * k.mInf
        g[3] += (gBar + eBar * p[6]) * w
        g[4] += eBar * p[1]
        g[5] += eBar * p[2] * k.mInf
        g[6] += eBar * p[3] * w
        g[7] -= mBar * k.dmInf
        g[8] -= mBar * k.dmInf * (voltages[0] - p[7]) / p[8]
        g[12] += eBar
    }

    public func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        parameterCotangent[0] += cotangent
    }
}
