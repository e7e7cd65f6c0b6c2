/// A system whose right-hand side can keep what its pullback at the same state would otherwise
/// recompute (a neural network's pre-activations and activations), so that a reverse sweep that
/// has just evaluated f at a stage pulls back without a second forward pass through the layers.
///
/// BPTT through dopri5 (`DormandPrinceMap` in the Gradients library) recomputes a step's six
/// stages before pulling them back; with this capability each stage's evaluation fills a cache
/// and its pullback reads it. Results are bit-identical to ``VectorJacobianProviding``'s:
/// the same operations run, once instead of twice (README "Performance").
public protocol PullbackCaching: VectorJacobianProviding {
    /// Doubles of cache one evaluation fills.
    var pullbackCacheCount: Int { get }

    /// f(t, y), as ``ODESystem/evaluateRightHandSide(at:state:parameters:into:)``, also writing
    /// into `cache` (``pullbackCacheCount`` doubles) what the pullback at this state needs.
    func evaluateRightHandSide(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        into derivative: UnsafeMutableBufferPointer<Double>, keeping cache: UnsafeMutableBufferPointer<Double>) throws

    /// ``VectorJacobianProviding/accumulatePullback(at:state:parameters:cotangent:stateCotangent:parameterCotangent:)``
    /// at the state and parameters whose evaluation filled `cache`.
    func accumulatePullback(
        at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
        cotangent: UnsafeBufferPointer<Double>, stateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>, cached cache: UnsafeBufferPointer<Double>) throws
}
