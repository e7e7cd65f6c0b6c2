/// The number of fixed steps that cover a span: the one place a span/step ratio becomes an `Int`.
///
/// Converting a `Double` that does not fit in an `Int` traps, so every fixed-step integrator and map
/// counts its steps here, where a ratio that is not finite or exceeds ``maximum`` becomes
/// ``ODEError/tooManySteps(span:stepSize:maximum:)`` naming both numbers instead of a crash.
public enum FixedStepCount {
    /// 2⁵⁰: beyond this many steps the grid times t₀ + k·Δt can no longer be told apart in double
    /// precision (and no run of that length would finish).
    public static let maximum = 1 << 50

    /// ⌈span / stepSize⌉ (at least 1), a ratio within 1e-9 of a whole number counting as that number,
    /// so that no sliver of a last step is taken.
    ///
    /// - Parameters:
    ///   - span: the length of the time span, > 0 (model time unit).
    ///   - stepSize: Δt, finite and > 0 (same unit).
    /// - Throws: ``ODEError/invalidStepSize(_:)`` for a step that is not finite and positive;
    ///   ``ODEError/tooManySteps(span:stepSize:maximum:)`` when the count is not finite or exceeds ``maximum``.
    public static func covering(span: Double, stepSize: Double) throws(ODEError) -> Int {
        guard stepSize.isFinite, stepSize > 0 else { throw .invalidStepSize(stepSize) }
        let ratio = (span / stepSize - 1e-9).rounded(.up)
        guard ratio.isFinite, ratio <= Double(maximum) else {
            throw .tooManySteps(span: span, stepSize: stepSize, maximum: maximum)
        }
        return max(1, Int(ratio))
    }
}
