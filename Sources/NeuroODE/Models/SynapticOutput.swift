import Foundation

/// The output (synaptic) function T(V) = 1 / (1 + exp(−(V − V_T)/K_p)) that turns a membrane
/// potential into a firing signal. Paper default V_T = 10 mV, K_p = 3 mV; the authors' network
/// code used V_T = −3, K_p = 8 (``authorsNetwork``).
public struct SynapticOutput: Sendable, Equatable, Codable {
    /// V_T (mV), where T = ½.
    public var threshold: Double
    /// K_p (mV), the width of the transition; must be positive.
    public var slope: Double

    /// T with threshold V_T (mV) and slope K_p (mV); the defaults are the paper's 10 and 3.
    public init(threshold: Double = 10, slope: Double = 3) {
        self.threshold = threshold
        self.slope = slope
    }

    /// The paper's V_T = 10 mV, K_p = 3 mV.
    public static let paper = SynapticOutput(threshold: 10, slope: 3)
    /// The authors' network code: V_T = −3 mV, K_p = 8 mV.
    public static let authorsNetwork = SynapticOutput(threshold: -3, slope: 8)

    /// T(v), in (0, 1).
    @inlinable @inline(__always)
    public func value(_ v: Double) -> Double { 1 / (1 + exp(-(v - threshold) / slope)) }

    /// dT/dV = T(1 − T)/K_p.
    @inlinable @inline(__always)
    public func derivative(_ v: Double) -> Double {
        let t = value(v)
        return t * (1 - t) / slope
    }

    /// The hard threshold T = 1 if V ≥ V_T else 0: not differentiable, for ES only.
    @inlinable @inline(__always)
    public func hardValue(_ v: Double) -> Double { v >= threshold ? 1 : 0 }
}
