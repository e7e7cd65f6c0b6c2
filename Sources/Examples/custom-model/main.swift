// Fits the FitzHugh–Nagumo model of FitzHughNagumo.swift to a recorded trace, once with an
// evolution strategy and once with backpropagation through time, and prints both fits side by
// side. Run with `swift run -c release custom-model`.
import Dispatch
import Foundation
import Gradients
import NeuroODE

let model = FitzHughNagumo()
let truth = model.defaultParameters
/// The fitted parameters and where both fits start (each 12–14 % off). The injected current I is
/// the experimenter's, so it is known; it could not be fitted from v alone in any case: shifting w
/// by c maps (a, I) to (a − b·c, I − c) and leaves dv/dt unchanged, so only the initial
/// transient tells the two apart and the loss is nearly flat along that direction.
let fitted = ["a", "b", "tau"]
let start = [0.6, 0.9, 11.0]
let horizon = 40.0
let recordingTimes = (1...Int(2 * horizon)).map { Double($0) / 2 }
let integrator = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)

// 1. The target: v recorded from the model at the true parameters.
let recording = try integrator.solve(
    ODEProblem(system: model, parameters: truth, timeSpan: (0, horizon)), output: .times(recordingTimes))
let trace = recording.component(0)

// 2. The training task: a, b and τ trained, loss = mean squared error of v.
let task = try TrainingTask(
    name: "fitzhugh-nagumo-fit", system: model, timeSpan: (0, horizon), integrator: integrator,
    loss: TraceMismatch(observationTimes: recordingTimes, trace: trace), training: fitted)

/// Both methods train u = θ / θ_start, so that one step size (and one ES σ) suits parameters of
/// different sizes (τ ≈ 12 beside a ≈ 0.7).
struct RelativeParameters: Objective {
    let task: TrainingTask<FitzHughNagumo, DormandPrince, TraceMismatch>
    let scale: [Double]
    var parameterCount: Int { scale.count }
    func theta(_ u: [Double]) -> [Double] { zip(u, scale).map(*) }
    func loss(at u: [Double]) throws -> Double { try task.loss(at: theta(u)) }
}
let relative = RelativeParameters(task: task, scale: start)

struct Fit {
    var parameters: [Double]
    var loss: Double
    var iterations: Int
    var seconds: Double
}

/// Adam on u, with the non-finite guard and norm clipping of `SafeguardedOptimizer` and the step
/// size shrinking by `decay` per update (a fixed step leaves Adam circling the minimum), until the
/// loss falls below `tolerance` or `maxIterations` updates have been made.
func fit(
    learningRate: Double, decay: Double, maxIterations: Int, tolerance: Double,
    gradient: (_ u: [Double], _ iteration: Int) throws -> GradientEstimate
) throws -> Fit {
    let clock = DispatchTime.now().uptimeNanoseconds
    var u = [Double](repeating: 1, count: start.count)
    var optimizer = SafeguardedOptimizer(Adam(learningRate: learningRate), maxGradientNorm: 10)
    var iterations = 0
    while iterations < maxIterations {
        let estimate = try gradient(u, iterations)
        if estimate.loss < tolerance { break }
        _ = optimizer.step(&u, gradient: estimate.gradient)
        optimizer.base.learningRate *= decay
        iterations += 1
    }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
    return Fit(parameters: relative.theta(u), loss: try relative.loss(at: u), iterations: iterations, seconds: seconds)
}

let tolerance = 1e-5
let es = EvolutionStrategy(samples: 16, sigma: 0.01, seed: 1)
let esFit = try fit(learningRate: 0.05, decay: 0.997, maxIterations: 600, tolerance: tolerance) { u, iteration in
    try es.estimate(objective: relative, at: u, iteration: iteration)
}
let bpttFit = try fit(learningRate: 0.05, decay: 0.99, maxIterations: 600, tolerance: tolerance) { u, iteration in
    var estimate = try BackpropagationThroughTime().estimate(task, at: relative.theta(u), iteration: iteration)
    estimate.gradient = zip(estimate.gradient, start).map(*)  // dL/du = dL/dθ · θ_start
    return estimate
}

func cell(_ value: Double, _ format: String = "%12.5f") -> String { String(format: format, value) }
print("FitzHugh–Nagumo: fit a, b, tau (I = \(truth[3]) known) to \(trace.count) samples of v on [0, \(horizon)] (dopri5, rtol 1e-8)")
print("Adam on θ/θ_start (lr 0.05, ×0.99 per step for BPTT, ×0.997 for ES: \(es.samples) mirrored samples, σ = \(es.sigma)),")
print("stopping at MSE < \(tolerance) or after 600 updates\n")
print("parameter".padding(toLength: 14, withPad: " ", startingAt: 0) + ["true", "start", "ES", "BPTT"].map { $0.leftPadded(12) }.joined())
for (k, name) in fitted.enumerated() {
    print(name.padding(toLength: 14, withPad: " ", startingAt: 0)
          + cell(truth[try model.parameterIndex(named: name)]) + cell(start[k]) + cell(esFit.parameters[k]) + cell(bpttFit.parameters[k]))
}
let startLoss = try task.loss(at: start)
print("loss (MSE)    " + "".leftPadded(12) + cell(startLoss, "%12.2e") + cell(esFit.loss, "%12.2e") + cell(bpttFit.loss, "%12.2e"))
print("iterations    " + "".leftPadded(24) + "\(esFit.iterations)".leftPadded(12) + "\(bpttFit.iterations)".leftPadded(12))
print("wall time (s) " + "".leftPadded(24) + cell(esFit.seconds, "%12.2f") + cell(bpttFit.seconds, "%12.2f"))

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
