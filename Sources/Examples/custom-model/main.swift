// Fits the FitzHugh–Nagumo model of FitzHughNagumo.swift to a recorded trace with the library's fit
// API (`Trainer`), once by backpropagation through time and once by an evolution strategy, and
// prints both fits side by side. Run with `swift run -c release custom-model`.
import Foundation
import Gradients
import NeuroODE

let model = FitzHughNagumo()
let truth = model.defaultParameters
/// The fitted parameters. The injected current I is the experimenter's, so it is known; it could
/// not be fitted from v alone in any case: shifting w by c maps (a, I) to (a − b·c, I − c) and
/// leaves dv/dt unchanged, so only the initial transient tells the two apart.
let fitted = ["a", "b", "tau"]
let horizon = 40.0
let recordingTimes = (1...Int(2 * horizon)).map { Double($0) / 2 }
let integrator = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)

// 1. The target: v recorded from the model at the true parameters.
let recording = try integrator.solve(
    ODEProblem(system: model, parameters: truth, timeSpan: (0, horizon)), output: .times(recordingTimes))
guard let trace = recording["v"] else { fatalError("the model has no state named v") }

// 2. The training task: a, b and τ trained from 12–14 % off (the task's parameter values are
//    where the fit starts), loss = mean squared error of v.
let task = try TrainingTask(
    name: "fitzhugh-nagumo-fit", system: model, systemParameters: [0.6, 0.9, 11.0, truth[3]], timeSpan: (0, horizon),
    integrator: integrator, loss: TraceMismatch(observationTimes: recordingTimes, trace: trace), training: fitted)

// 3. The fit: Adam on θ / θ_start (so that one step size suits a ≈ 0.7 and τ ≈ 12), clipped at
//    norm 10, with an exponentially decaying step (a fixed one leaves Adam circling the minimum),
//    stopping at MSE < 1e-5 or after 600 iterations. Progress goes to standard error.
let stopAtTarget = EarlyStopping(target: TrainingTarget(quantity: .loss, threshold: 1e-5, higherIsBetter: false))
func fit(_ method: any GradientMethod, learningRate: Double, decay: Double) throws -> TrainerState<Adam> {
    let configuration = TrainerConfiguration(
        iterations: 600, maxGradientNorm: 10, learningRateSchedule: .exponential(factor: decay),
        parameterScale: try task.initialParameters(seed: 0), earlyStopping: stopAtTarget)
    let trainer = Trainer(problem: task, method: method, optimizer: Adam(learningRate: learningRate), configuration: configuration)
    return try trainer.run { event in
        if case let .iteration(record, total, rate, remaining) = event, record.iteration % 50 == 0 {
            let line = String(format: "%@ %d/%d: loss %.3g, lr %.3g, %.0f it/s, ETA %.1f s\n",
                              method.name, record.iteration + 1, total, record.loss, record.learningRate, rate, remaining)
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
}
let es = EvolutionStrategy(samples: 16, sigma: 0.01, seed: 1)
let bpttFit = try fit(BackpropagationThroughTime(), learningRate: 0.05, decay: 0.99)
let esFit = try fit(es, learningRate: 0.05, decay: 0.997)

func cell(_ value: Double, _ format: String = "%12.5f") -> String { String(format: format, value) }
print("FitzHugh–Nagumo: fit a, b, tau (I = \(truth[3]) known) to \(trace.count) samples of v on [0, \(horizon)] (dopri5, rtol 1e-8)")
print("parameter".padding(toLength: 14, withPad: " ", startingAt: 0) + ["true", "start", "ES", "BPTT"].map { $0.leftPadded(12) }.joined())
let start = try task.initialParameters(seed: 0)
for (k, name) in fitted.enumerated() {
    print(name.padding(toLength: 14, withPad: " ", startingAt: 0)
          + cell(truth[try model.parameterIndex(named: name)]) + cell(start[k]) + cell(esFit.parameters[k]) + cell(bpttFit.parameters[k]))
}
let losses = try [start, esFit.parameters, bpttFit.parameters].map { try task.loss(at: $0) }
print("loss (MSE)    " + "".leftPadded(12) + losses.map { cell($0, "%12.2e") }.joined())
print("iterations    " + "".leftPadded(24) + "\(esFit.nextIteration)".leftPadded(12) + "\(bpttFit.nextIteration)".leftPadded(12))
print("wall time (s) " + "".leftPadded(24) + cell(esFit.elapsed, "%12.2f") + cell(bpttFit.elapsed, "%12.2f"))

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
