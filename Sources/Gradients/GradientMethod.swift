import NeuroODE

/// A way of computing (or estimating) the gradient of a task's loss. Every method returns the
/// loss at θ, the gradient over the task's trainable parameters and a cost report, so that all of
/// them can be run on the same task and compared honestly.
public protocol GradientMethod: Sendable {
    /// Name used on the command line and in result files.
    var name: String { get }
    /// The loss and gradient at θ. `iteration` seeds stochastic methods (ES) so that every
    /// iteration's noise can be regenerated.
    func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate
}
