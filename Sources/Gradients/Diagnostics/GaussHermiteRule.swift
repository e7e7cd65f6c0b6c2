import Foundation

/// Gauss–Hermite quadrature for expectations under a standard normal variable:
///
///     E[f(ε)] ≈ Σⱼ wⱼ f(xⱼ),   ε ~ N(0, 1),
///
/// exact when f is a polynomial of degree < 2n. This is how the landscape computes the objective
/// ES descends, E[L(θ + σε)], and its gradient (1/σ)E[L(θ + σε)ε], from loss evaluations alone,
/// without Monte-Carlo noise. A loss with jumps (the turn-off loss at the firing threshold) is no
/// polynomial: there the rule converges slowly in n, and its error is that of approximating the
/// jump by a polynomial.
///
/// The nodes are the roots of the orthonormal Hermite polynomial hₙ (weight e^{−t²}): bracketed by
/// sign changes on a grid much finer than their spacing (≥ π/√(2n+1)), then bisected to full
/// precision; tₖ and the weights 2/hₙ′(tₖ)² are mapped to the standard normal by x = √2·t and
/// w/√π.
public struct GaussHermiteRule: Sendable, Equatable {
    /// Nodes xⱼ, increasing.
    public let nodes: [Double]
    /// Weights wⱼ, positive, summing to 1.
    public let weights: [Double]

    /// Largest order accepted: beyond it hₙ(t) overflows near the outer nodes.
    public static let maximumOrder = 150

    /// The n-point rule, 1 ≤ n ≤ ``maximumOrder``.
    public init(order n: Int) throws(TrainingError) {
        guard (1...Self.maximumOrder).contains(n) else {
            throw .invalidOption(name: "nodes", value: "\(n)", reason: "the Gauss–Hermite order must be in 1...\(Self.maximumOrder)")
        }
        // Every root lies inside |t| < √(2n + 1).
        let bound = (2 * Double(n) + 1).squareRoot()
        let cells = 64 * n
        var roots: [Double] = []
        var left = -bound, valueLeft = Self.orthonormal(n, at: left).value
        for k in 1...cells {
            let right = -bound + 2 * bound * Double(k) / Double(cells)
            let valueRight = Self.orthonormal(n, at: right).value
            if valueLeft == 0 {
                roots.append(left)
            } else if valueLeft * valueRight < 0 {
                roots.append(Self.bisect(n, left, right, valueLeft))
            }
            (left, valueLeft) = (right, valueRight)
        }
        precondition(roots.count == n, "Gauss–Hermite: found \(roots.count) roots of h\(n), expected \(n)")
        nodes = roots.map { 2.0.squareRoot() * $0 }
        weights = roots.map { root in
            let slope = Self.orthonormal(n, at: root).derivative
            return 2 / (slope * slope) / Double.pi.squareRoot()
        }
    }

    /// Σⱼ wⱼ f(xⱼ).
    public func expectation(_ f: (Double) throws -> Double) rethrows -> Double {
        var sum = 0.0
        for (x, w) in zip(nodes, weights) { sum += w * (try f(x)) }
        return sum
    }

    /// hₙ(t) and hₙ′(t) = √(2n)·hₙ₋₁(t) by the three-term recurrence of the orthonormal Hermite
    /// polynomials: h₀ = π^{−1/4}, h_{j+1} = √(2/(j+1))·t·hⱼ − √(j/(j+1))·h_{j−1}.
    private static func orthonormal(_ n: Int, at t: Double) -> (value: Double, derivative: Double) {
        var previous = 0.0, current = pow(Double.pi, -0.25)
        for j in 0..<n {
            let next = (2 / Double(j + 1)).squareRoot() * t * current - (Double(j) / Double(j + 1)).squareRoot() * previous
            (previous, current) = (current, next)
        }
        return (current, (2 * Double(n)).squareRoot() * previous)
    }

    /// The root of hₙ in [a, b], where hₙ changes sign, to the last bit.
    private static func bisect(_ n: Int, _ a: Double, _ b: Double, _ valueA: Double) -> Double {
        var (low, high, valueLow) = (a, b, valueA)
        while true {
            let middle = 0.5 * (low + high)
            guard middle > low, middle < high else { return abs(valueLow) < abs(orthonormal(n, at: high).value) ? low : high }
            let value = orthonormal(n, at: middle).value
            if value == 0 { return middle }
            if (value < 0) == (valueLow < 0) {
                (low, valueLow) = (middle, value)
            } else {
                high = middle
            }
        }
    }
}
