import NeuroODE

/// A time-stepping scheme seen as the discrete map BPTT differentiates exactly:
///
///     z₀ = Z(y₀, θ),   (z_{n+1}, yₙ) = Sₙ(zₙ, θ),   y_N = R(z_N, θ)
///
/// z is the scheme's internal state (what a checkpoint stores: for leapfrog, Vₙ with the gates at
/// n − ½), y is the reported state the loss sees. The step grid is fixed once the map is built
/// (adaptive schemes record it during a first forward pass).
public protocol DiscreteForwardMap: SendableMetatype {
    /// Length of the internal state z.
    var internalSize: Int { get }
    /// Length of the reported state y.
    var dimension: Int { get }
    /// Number of steps N.
    var stepCount: Int { get }
    /// Number of parameters θ of the underlying system.
    var parameterCount: Int { get }
    /// Right-hand-side (or coefficient) evaluations one step costs, for cost reports.
    var rightHandSidesPerStep: Int { get }
    /// t_n for n in 0...N.
    func time(_ n: Int) -> Double

    /// Writes z₀.
    func initialize(into z: UnsafeMutableBufferPointer<Double>) throws(ODEError)
    /// Writes z_{n+1} and yₙ from zₙ.
    func step(
        _ n: Int, from z: UnsafeBufferPointer<Double>, to next: UnsafeMutableBufferPointer<Double>,
        reporting y: UnsafeMutableBufferPointer<Double>) throws(ODEError)
    /// Writes y_N from z_N.
    func terminalReport(from z: UnsafeBufferPointer<Double>, reporting y: UnsafeMutableBufferPointer<Double>) throws(ODEError)

    /// Reverse of ``step(_:from:to:reporting:)``: given zₙ and z̄_{n+1} in `cotangent`, overwrites
    /// `cotangent` with z̄ₙ and adds to θ̄. The cotangent of yₙ is asked of `seed` once yₙ has been
    /// recomputed (the loss's running integrand needs its value).
    func pullbackStep(
        _ n: Int, from z: UnsafeBufferPointer<Double>, cotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>,
        seed: (_ y: UnsafeBufferPointer<Double>, _ yCotangent: UnsafeMutableBufferPointer<Double>) -> Void) throws(ODEError)
    /// Reverse of ``terminalReport(from:reporting:)``: writes z̄_N from ȳ_N (given by `seed`), adds to θ̄.
    func pullbackTerminalReport(
        from z: UnsafeBufferPointer<Double>, cotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>,
        seed: (_ y: UnsafeBufferPointer<Double>, _ yCotangent: UnsafeMutableBufferPointer<Double>) -> Void) throws(ODEError)
    /// Reverse of ``initialize(into:)``: adds z̄₀ᵀ∂z₀/∂θ to θ̄ and, when `initialStateCotangent` is
    /// given, writes ȳ₀ = z̄₀ᵀ∂z₀/∂y₀ into it (y₀ depends on θ where the map starts a smooth piece
    /// after an event, ``EventGradient``).
    func pullbackInitialize(
        cotangent: UnsafeBufferPointer<Double>, initialStateCotangent: UnsafeMutableBufferPointer<Double>?,
        parameterCotangent: UnsafeMutableBufferPointer<Double>) throws(ODEError)
}
