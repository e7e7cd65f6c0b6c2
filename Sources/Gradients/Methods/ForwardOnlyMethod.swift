/// A gradient method that needs nothing but the loss: it can estimate the gradient of any
/// ``Objective``, not only of a ``TrainingTask``. ``Trainer`` uses this to run such a method on
/// rescaled parameters u = θ / s (``TrainerConfiguration/parameterScale``), so that its
/// perturbations are relative to each entry's size.
public protocol ForwardOnlyMethod: GradientMethod {
    /// The loss and gradient estimate of `objective` at `parameters` for `iteration`.
    func forwardOnlyEstimate(of objective: some Objective, at parameters: [Double], iteration: Int) throws -> GradientEstimate
}

extension EvolutionStrategy: ForwardOnlyMethod {
    public func forwardOnlyEstimate(of objective: some Objective, at parameters: [Double], iteration: Int) throws -> GradientEstimate {
        try estimate(objective: objective, at: parameters, iteration: iteration)
    }
}
