/// The arithmetic of the leapfrog scheme (SCIENCE.md "Integrators"), defined once with its
/// pullbacks: ``Leapfrog`` steps with these formulas and BPTT's differentiable map of the scheme
/// (Gradients' `LeapfrogMap`) replays and differentiates the same ones, so the two compute
/// bit-identical states and a change to the scheme is one change here.
///
/// Every function is a scalar formula, inlined into the callers' loops, which stay vectorisable
/// and allocate nothing. h is a step length (model time unit, ms for neurons).
public enum LeapfrogStep {
    /// The trapezoid gate step with V frozen: x′ = (x∞·h + (τ − h/2)·x)/(τ + h/2).
    @inlinable @inline(__always)
    public static func gate(_ x: Double, steadyState xInf: Double, timeConstant tau: Double, step h: Double) -> Double {
        (xInf * h + (tau - 0.5 * h) * x) / (tau + 0.5 * h)
    }

    /// The pullback of ``gate(_:steadyState:timeConstant:step:)``: given x̄′ and the step's x and x′,
    /// the cotangents (x̄, x̄∞, τ̄).
    @inlinable @inline(__always)
    public static func gatePullback(
        _ bar: Double, gate x: Double, next: Double, timeConstant tau: Double, step h: Double
    ) -> (gate: Double, steadyState: Double, timeConstant: Double) {
        let a = tau + 0.5 * h
        return (bar * (tau - 0.5 * h) / a, bar * h / a, bar * (x - next) / a)
    }

    /// The trapezoid voltage step with the gates frozen: V′ = (V(C − hG/2) + hE)/(C + hG/2).
    @inlinable @inline(__always)
    public static func voltage(
        _ v: Double, capacitance c: Double, conductance g: Double, drive e: Double, step h: Double
    ) -> Double {
        (v * (c - 0.5 * h * g) + h * e) / (c + 0.5 * h * g)
    }

    /// The pullback of ``voltage(_:capacitance:conductance:drive:step:)``: given V̄′ and the step's
    /// V and V′, the cotangents (V̄, Ḡ, Ē, C̄).
    @inlinable @inline(__always)
    public static func voltagePullback(
        _ bar: Double, voltage v: Double, next: Double, capacitance c: Double, conductance g: Double, step h: Double
    ) -> (voltage: Double, conductance: Double, drive: Double, capacitance: Double) {
        let d = c + 0.5 * h * g
        return (bar * (c - 0.5 * h * g) / d, -bar * 0.5 * h * (v + next) / d, bar * h / d, bar * (v - next) / d)
    }

    /// The initial stagger x_{−½} = x₀ + h/(2τ)(x₀ − x∞), which makes the reported gate
    /// x̄₀ = (x_{−½} + x_{½})/2 equal x₀ (h the first step).
    @inlinable @inline(__always)
    public static func stagger(_ x0: Double, steadyState xInf: Double, timeConstant tau: Double, step h: Double) -> Double {
        x0 + h / (2 * tau) * (x0 - xInf)
    }

    /// The pullback of ``stagger(_:steadyState:timeConstant:step:)``: given x̄_{−½}, the cotangents
    /// (x̄₀, x̄∞, τ̄).
    @inlinable @inline(__always)
    public static func staggerPullback(
        _ bar: Double, gate x0: Double, steadyState xInf: Double, timeConstant tau: Double, step h: Double
    ) -> (gate: Double, steadyState: Double, timeConstant: Double) {
        (bar * (1 + h / (2 * tau)), -bar * h / (2 * tau), -bar * h * (x0 - xInf) / (2 * tau * tau))
    }

    /// The gate step between voltage steps of lengths h′ (previous) and h: their mean.
    @inlinable @inline(__always)
    public static func gateStep(previous: Double, next h: Double) -> Double {
        0.5 * (previous + h)
    }

    /// The weight s of the extrapolated midpoint, V_{n+½} ≈ Vₙ + s(Vₙ − V_{n−1}) with
    /// s = h/(2h′) (``Leapfrog/InstantaneousVoltage/extrapolatedMidpoint``).
    @inlinable @inline(__always)
    public static func midpointWeight(step h: Double, previous: Double) -> Double {
        0.5 * h / previous
    }
}
