import _Differentiation
import Gradients

/// The fitting loss: the mean squared difference between the model's v and a recorded trace at
/// the recording times, L = (1/K) Σₖ (v(tₖ) − v̂ₖ)². Written as a ``DifferentiableTaskLoss``, so
/// its derivative comes from autodiff like the model's.
struct TraceMismatch: DifferentiableTaskLoss {
    let observationTimes: [Double]
    /// The recorded v̂ₖ, one per observation time.
    let trace: [Double]

    @differentiable(reverse, wrt: (state, parameters))
    func observationCost(at index: Int, time: Double, state: [Double], parameters: [Double]) -> Double {
        let residual = state[0] - trace[index]
        return residual * residual / Double(trace.count)
    }
}
