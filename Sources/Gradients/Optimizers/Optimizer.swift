/// A first-order optimizer: turns a gradient into an in-place parameter update, keeping whatever
/// moment estimates it needs. Optimizers are `Codable` so that training checkpoints can carry
/// their state and a resumed run continues bit-identically.
///
/// ``update(_:gradient:)`` is only ever called with a finite gradient of the right length;
/// ``SafeguardedOptimizer`` is what enforces that, clips, and counts skipped steps.
public protocol Optimizer: Sendable, Codable {
    /// Name used on the command line and in result files ("adam", "sgd", ...).
    var name: String { get }
    /// The step size; training loops lower it after a divergence.
    var learningRate: Double { get set }
    /// Applies one update to the entries of `parameters` in `entries` (ascending, disjoint
    /// ranges), in place. The other entries and their optimizer state (moments, step counts) stay
    /// exactly as they are, as for a PyTorch parameter without a gradient: alternating and frozen
    /// parameter groups (README "ES variants") rely on this.
    mutating func update(_ parameters: inout [Double], gradient: [Double], entries: [Range<Int>])
}

extension Optimizer {
    /// Applies one update to every entry of `parameters`.
    public mutating func update(_ parameters: inout [Double], gradient: [Double]) {
        update(&parameters, gradient: gradient, entries: [parameters.indices])
    }
}

/// Wraps an optimizer with gradient-norm clipping and the non-finite guard of the fault table
/// (README "Reliability: limits, threads, interruption"): a gradient containing NaN or ±∞ leaves both the parameters and the optimizer's
/// moments untouched, and is counted.
public struct SafeguardedOptimizer<Base: Optimizer>: Sendable, Codable {
    /// What happened to one proposed update.
    public enum Outcome: Equatable, Sendable {
        /// Applied; `norm` is the gradient norm before clipping.
        case applied(norm: Double, clipped: Bool)
        /// Skipped because the gradient had a non-finite entry at `index`.
        case skippedNonFinite(index: Int)
    }

    /// The wrapped optimizer; its learning rate may be changed between steps.
    public var base: Base
    /// Rescale gradients whose Euclidean norm exceeds this (nil: no clipping). BPTT default: 10.
    public var maxGradientNorm: Double?
    /// Updates applied so far.
    public private(set) var appliedSteps = 0
    /// Updates skipped because the gradient was not finite.
    public private(set) var skippedSteps = 0

    /// Wraps `base`, clipping gradients longer than `maxGradientNorm` (never when `nil`).
    public init(_ base: Base, maxGradientNorm: Double? = nil) {
        self.base = base
        self.maxGradientNorm = maxGradientNorm
    }

    /// Applies one update to `parameters` unless `gradient` has a non-finite entry, clipping its norm
    /// to ``maxGradientNorm`` first; says which happened. With `entries` only those entries (and
    /// their optimizer state) are updated and the norm is theirs; `nil` updates every entry.
    public mutating func step(_ parameters: inout [Double], gradient: [Double], entries: [Range<Int>]? = nil) -> Outcome {
        precondition(gradient.count == parameters.count, "gradient and parameters differ in length")
        if let bad = gradient.firstIndex(where: { !$0.isFinite }) {
            skippedSteps += 1
            return .skippedNonFinite(index: bad)
        }
        let updated = entries ?? [parameters.indices]
        let norm = entries == nil ? euclideanNorm(gradient) : euclideanNorm(updated.flatMap { gradient[$0] })
        var clipped = false
        if let limit = maxGradientNorm, norm > limit {
            let scale = limit / norm
            base.update(&parameters, gradient: gradient.map { $0 * scale }, entries: updated)
            clipped = true
        } else {
            base.update(&parameters, gradient: gradient, entries: updated)
        }
        appliedSteps += 1
        return .applied(norm: norm, clipped: clipped)
    }
}

/// ‖v‖₂, scaled to avoid overflow for large entries.
public func euclideanNorm(_ v: [Double]) -> Double {
    let scale = v.reduce(0) { max($0, abs($1)) }
    guard scale > 0, scale.isFinite else { return scale }
    let sum = v.reduce(0) { $0 + ($1 / scale) * ($1 / scale) }
    return scale * sum.squareRoot()
}
