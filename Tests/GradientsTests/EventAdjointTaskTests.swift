import Foundation
import Gradients
import NeuroODE
import Testing

/// The partial adjoint through events on ordinary training tasks (running costs, observations):
/// LIF's ∫V dt against the derivative of its closed form, and the issue's Izhikevich case (∫v dt at
/// I = 10.5, where the old partial adjoint returned a wrong value and sign) against central
/// differences, with dopri5 and CVODE forward passes.
@Suite struct EventAdjointTaskTests {
    static let tight = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-11)
    static let backward = DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
    static let partial = AdjointMethod(variant: .partial, backwardIntegrator: backward)
    /// The event-aware methods for a loss on the end of the horizon (running costs).
    static let eventMethods: [any GradientMethod] = [partial, BackpropagationThroughTime()]

    /// ∫₀ᵀ V dt of LIF from V₀ with constant drive, event by event: between resets V relaxes towards
    /// V∞ = EL + RI, so a piece of length d from V_a contributes V∞d + (V_a − V∞)τ(1 − e^{−d/τ});
    /// each refractory hold contributes Vreset·tref.
    static func closedIntegral(_ p: [Double], v0: Double, tref: Double, horizon: Double) -> Double {
        let (tau, el, r, i, vth, reset) = (p[0], p[1], p[2], p[3], p[4], p[5])
        let vInf = el + r * i
        var t = 0.0, start = v0, total = 0.0
        while t < horizon {
            let rise = tau * log((vInf - start) / (vInf - vth))
            let d = min(rise, horizon - t)
            total += vInf * d + (start - vInf) * tau * (1 - exp(-d / tau))
            t += d
            guard t < horizon else { break }
            let hold = min(tref, horizon - t)
            total += reset * hold
            t += hold
            start = reset
        }
        return total
    }

    @Test(arguments: [0.0, 2.0])
    func lifIntegralMatchesTheClosedFormsDerivative(tref: Double) throws {
        let lif = LeakyIntegrateAndFire(refractoryPeriod: tref)
        let names = ["tau", "EL", "R", "I", "Vth", "Vreset"]
        let horizon = 50.0
        let task = try TrainingTask(
            name: "lif-integral", system: lif, timeSpan: (0, horizon), integrator: Self.tight,
            loss: StateIntegralLoss(weights: tref > 0 ? [1, 0] : [1]), training: names)
        let theta = lif.defaultParameters
        let exact = Self.closedIntegral(theta, v0: -65, tref: tref, horizon: horizon)
        for method in Self.eventMethods {
          let estimate = try method.estimate(task, at: theta, iteration: 0)
          #expect(abs(estimate.loss - exact) <= 1e-7 * abs(exact), "∫V dt \(estimate.loss) vs \(exact)")
          for k in 0..<6 {
            let h = 1e-6 * max(1, abs(theta[k]))
            var plus = theta, minus = theta
            plus[k] += h
            minus[k] -= h
            let derivative = (Self.closedIntegral(plus, v0: -65, tref: tref, horizon: horizon)
                - Self.closedIntegral(minus, v0: -65, tref: tref, horizon: horizon)) / (2 * h)
            #expect(abs(estimate.gradient[k] - derivative) <= 1e-5 * max(abs(derivative), 1), "\(method.name) \(names[k]): \(estimate.gradient[k]) vs \(derivative)")
          }
        }
    }

    /// The issue's case on the built-in model: ∫v dt over 100 ms at I = 10.5 (and a trajectory
    /// loss at observation times), every parameter, against central differences of the same forward
    /// pass; with dopri5 and with CVODE BDF.
    @Test func izhikevichMatchesFiniteDifferences() throws {
        let theta = [0.02, 0.2, -65, 8, 10.5]
        let observed = TrajectoryMatchingLoss(
            times: [20, 45, 80], targets: [-60, -10, -55, -9, -62, -11], dimension: 2, metric: .meanSquared)
        let integrators: [any Integrator] = [Self.tight, CVODE(method: .bdf, relativeTolerance: 1e-11, absoluteTolerance: 1e-11)]
        for integrator in integrators {
            try check(integrator, loss: StateIntegralLoss(weights: [1, 0]), theta: theta, tolerance: integrator is CVODE ? 1e-4 : 1e-5, method: Self.partial)
            try check(integrator, loss: observed, theta: theta, tolerance: integrator is CVODE ? 1e-4 : 1e-5, method: Self.partial)
        }
        // BPTT through the dopri5 steps: the running cost observes only T.
        try check(Self.tight, loss: StateIntegralLoss(weights: [1, 0]), theta: theta, tolerance: 1e-5, method: BackpropagationThroughTime())
        let task = try TrainingTask(
            name: "izh", system: Izhikevich(), timeSpan: (0, 100), integrator: Self.tight, loss: observed, training: ["I"])
        #expect(throws: TrainingError.self) { try BackpropagationThroughTime().estimate(task, at: [10.5], iteration: 0) }
    }

    /// BPTT through the leapfrog's steps on a training task (the state at T observed) crosses the
    /// resets like the spike-timing task does: against central differences of a tight dopri5
    /// forward pass (the continuous gradient), the error falls about fourfold per halved Δt.
    @Test func izhikevichLeapfrogBPTTConvergesOnATrainingTask() throws {
        let theta = [0.02, 0.2, -65, 8, 10.5]
        let observed = TrajectoryMatchingLoss(times: [30], targets: [-60, -10], dimension: 2, metric: .meanSquared)
        func task<M: Integrator>(_ integrator: M) throws -> TrainingTask<Izhikevich, M, TrajectoryMatchingLoss> {
            try TrainingTask(name: "izh", system: Izhikevich(), timeSpan: (0, 30), integrator: integrator, loss: observed,
                             training: Izhikevich.parameterNames)
        }
        let reference = try FiniteDifferences(step: 1e-6).estimate(task(Self.tight), at: theta).gradient
        let largest = reference.map(abs).max() ?? 1
        let errors = try [0.005, 0.0025].map { dt in
            let gradient = try BackpropagationThroughTime().estimate(task(Leapfrog(stepSize: dt)), at: theta, iteration: 0).gradient
            return zip(gradient, reference).map { abs($0 - $1) / max(abs($1), 1e-3 * largest) }.max() ?? 0
        }
        // Measured: 1.3e-4 → 3.2e-5 (ratio 3.9).
        #expect(errors[1] < 1e-4 && errors[0] / errors[1] > 3.5 && errors[0] / errors[1] < 4.7, "relative errors \(errors)")
    }

    func check<M: Integrator, L: TaskLoss>(_ integrator: M, loss: L, theta: [Double], tolerance: Double, method: any GradientMethod) throws {
        let task = try TrainingTask(
            name: "izh", system: Izhikevich(), timeSpan: (0, 100), integrator: integrator, loss: loss,
            training: Izhikevich.parameterNames)
        let estimate = try method.estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
        #expect(abs(estimate.loss - reference.loss) <= 1e-7 * abs(reference.loss))
        let largest = reference.gradient.map(abs).max() ?? 1
        for k in theta.indices {
            #expect(abs(estimate.gradient[k] - reference.gradient[k]) <= tolerance * max(abs(reference.gradient[k]), 1e-3 * largest),
                    "\(integrator.name) \(L.self) \(Izhikevich.parameterNames[k]): \(estimate.gradient[k]) vs fd \(reference.gradient[k])")
        }
    }
}
