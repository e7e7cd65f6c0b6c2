/// An objective in rescaled parameters: L̃(u) = L(s ∘ u), so that ∇L̃(u) = s ∘ ∇L(θ). ``Trainer``
/// hands it to a ``ForwardOnlyMethod`` under a ``TrainerConfiguration/parameterScale``.
struct RescaledObjective<Base: Objective>: Objective {
    /// L in the original parameters θ.
    let base: Base
    /// s, one positive entry per parameter.
    let scale: [Double]

    var parameterCount: Int { base.parameterCount }

    func loss(at u: [Double]) throws -> Double {
        try base.loss(at: zip(u, scale).map(*))
    }

    func evaluate(at u: [Double]) throws -> ObjectiveEvaluation {
        try base.evaluate(at: zip(u, scale).map(*))
    }
}
