import NeuroODE

/// SCIENCE.md's turn-off task: a single Morris–Lecar neuron (`hopf`) starting on its I = 100 limit
/// cycle; learn the injected current I so that the neuron stops firing. Loss = (1/τ)∫₀^τ T(V)dt
/// with the paper's output function (V_T = 10, K_p = 3). Success: loss < 1e-3.
public enum TurnOffTask {
    /// The loss value SCIENCE.md counts as "silent".
    public static let target = 1e-3

    /// The task with the paper's leapfrog at Δt = 0.1 ms unless another integrator is given.
    public static func make<Method: Integrator>(
        horizon: Double = 3000, integrator: Method, output: SynapticOutput = .paper
    ) throws(ODEError) -> TrainingTask<MorrisLecar, Method, MeanActivityLoss> {
        guard horizon.isFinite, horizon > 0 else {
            throw .invalidTimeSpan(start: 0, end: horizon, reason: "the horizon must be positive")
        }
        return try TrainingTask(
            name: "turn-off", system: MorrisLecar(preset: .hopf, current: 100), initialState: [-41.84, 0.5282],
            timeSpan: (0, horizon), integrator: integrator,
            loss: MeanActivityLoss(output: output, horizon: horizon), training: ["I"])
    }

    /// The task with the paper's leapfrog at Δt = 0.1 ms over `horizon` ms.
    public static func make(horizon: Double = 3000) throws(ODEError) -> TrainingTask<MorrisLecar, Leapfrog, MeanActivityLoss> {
        try make(horizon: horizon, integrator: Leapfrog(stepSize: 0.1))
    }
}
