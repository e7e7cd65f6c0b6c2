/// Locating an event inside a step (README "Events"): the one root search that every integrator
/// with events runs on its own interpolant of the step (dopri5 on its dense output, the leapfrog on
/// its linear interpolant).
package enum EventRoot {
    /// The bracket width at which a search stops: 10⁻¹² relative in time (relative to |t| or,
    /// near t = 0, to the step), as a fraction of the step [t, tNew] of length h.
    @inline(__always)
    package static func tolerance(from t: Double, to tNew: Double, step h: Double) -> Double {
        1e-12 * max(1, max(abs(t), abs(tNew)) / abs(h))
    }

    /// Narrows a bracket [lower, upper] of fractions of a step, with g(lower) < 0 ≤ g(upper), around
    /// a root of `g` by the Illinois (modified regula falsi) method, falling back to bisection when
    /// the secant point is not strictly inside, until it is narrower than `tolerance` (at most 200
    /// iterations). Returns the bracket's g ≥ 0 end, so that an event is applied just after its
    /// crossing.
    @inline(__always)
    package static func narrow(
        lower: Double, gLower: Double, upper: Double, gUpper: Double, tolerance: Double,
        _ g: (Double) throws(ODEError) -> Double
    ) throws(ODEError) -> Double {
        var lower = lower, gLower = gLower, upper = upper, gUpper = gUpper
        var side = 0
        var iterations = 0
        while upper - lower > tolerance, iterations < 200 {
            iterations += 1
            var theta = (lower * gUpper - upper * gLower) / (gUpper - gLower)
            if !(theta > lower && theta < upper) { theta = 0.5 * (lower + upper) }
            guard theta > lower, theta < upper else { break }
            let value = try g(theta)
            if value < 0 {
                lower = theta
                gLower = value
                if side == -1 { gUpper *= 0.5 }
                side = -1
            } else {
                upper = theta
                gUpper = value
                if side == 1 { gLower *= 0.5 }
                side = 1
            }
        }
        return upper
    }
}
