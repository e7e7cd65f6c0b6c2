import NeuroODE

/// A forward trajectory kept for the partial adjoint: states and their derivatives at the
/// integrator's steps, interpolated by cubic Hermite polynomials in between.
struct StoredTrajectory: Sendable {
    let dimension: Int
    let times: [Double]
    let states: [Double]
    let derivatives: [Double]

    /// Stores `solution` (every step) and evaluates f at each stored point.
    init<S: ODESystem>(solution: Solution, system: S, parameters: [Double]) throws {
        try self.init(times: solution.times, states: solution.states, system: system, parameters: parameters)
    }

    /// Stores the states (row-major, one per time) and evaluates f at each: one smooth piece of a
    /// trajectory (between two events, say).
    init<S: ODESystem>(times: [Double], states: [Double], system: S, parameters: [Double]) throws {
        dimension = system.dimension
        self.times = times
        self.states = states
        var slopes = [Double](repeating: 0, count: states.count)
        let n = dimension
        try states.withUnsafeBufferPointer { y in
            try parameters.withUnsafeBufferPointer { p in
                try slopes.withUnsafeMutableBufferPointer { f in
                    for i in 0..<times.count {
                        try system.rightHandSide(
                            times[i], UnsafeBufferPointer(rebasing: y[(i * n)..<((i + 1) * n)]), p,
                            UnsafeMutableBufferPointer(rebasing: f[(i * n)..<((i + 1) * n)]))
                    }
                }
            }
        }
        derivatives = slopes
    }

    var byteCount: Int { (states.count + derivatives.count + times.count) * MemoryLayout<Double>.stride }

    /// y(t) by cubic Hermite interpolation on the stored interval containing t (clamped to the ends).
    func interpolate(at t: Double, into y: UnsafeMutableBufferPointer<Double>) {
        var low = 0, high = times.count - 1
        while high - low > 1 {
            let mid = (low + high) / 2
            if times[mid] <= t { low = mid } else { high = mid }
        }
        let t0 = times[low], t1 = times[high], h = t1 - t0
        let s = h == 0 ? 0 : min(1, max(0, (t - t0) / h))
        let h00 = (1 + 2 * s) * (1 - s) * (1 - s), h10 = s * (1 - s) * (1 - s)
        let h01 = s * s * (3 - 2 * s), h11 = s * s * (s - 1)
        let a = low * dimension, b = high * dimension
        for i in 0..<dimension {
            y[i] = h00 * states[a + i] + h10 * h * derivatives[a + i] + h01 * states[b + i] + h11 * h * derivatives[b + i]
        }
    }
}
