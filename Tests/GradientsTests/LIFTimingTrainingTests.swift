import Foundation
import Gradients
import NeuroODE
import Testing

/// The LIF spike-timing benchmark: the layer's derivatives and spike registers, its gradients by
/// BPTT and the partial adjoint against central differences, and a short BPTT training run that
/// reaches the target.
@Suite struct LIFTimingTrainingTests {
    static func layer() throws -> LIFLayer {
        try LIFLayer(
            neurons: 2, inputSpikes: [[1, 6], [3], [2, 9, 12]], weights: [9, 6, 8, 5, 10, 7], recordedSpikes: 2, horizon: 30)
    }

    /// The flow's pullback against central differences of f; the resets' derivatives (including
    /// λᵀ∂h/∂t from the register that takes the spike time) by the shared event check.
    @Test func derivativesMatchCentralDifferences() throws {
        let layer = try Self.layer()
        var y = layer.defaultInitialState
        // Counters at k + ½ (read by truncation), so that differences in them stay on one count.
        y[0] = -52; y[1] = -49.95; y[2] = 1.5; y[3] = 0.5
        let w = layer.defaultParameters, lambda = (0..<layer.dimension).map { 0.2 + 0.1 * Double($0) }
        var stateBar = [Double](repeating: 0, count: layer.dimension), weightBar = [Double](repeating: 0, count: w.count)
        func f(_ y: [Double], _ w: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: layer.dimension)
            y.withUnsafeBufferPointer { yb in w.withUnsafeBufferPointer { wb in out.withUnsafeMutableBufferPointer {
                layer.evaluateRightHandSide(at: 8, state: yb, parameters: wb, into: $0) } } }
            return out
        }
        y.withUnsafeBufferPointer { yb in w.withUnsafeBufferPointer { wb in lambda.withUnsafeBufferPointer { lb in
            stateBar.withUnsafeMutableBufferPointer { sb in weightBar.withUnsafeMutableBufferPointer { gb in
                layer.accumulatePullback(at: 8, state: yb, parameters: wb, cotangent: lb, stateCotangent: sb, parameterCotangent: gb) } } } } }
        let dot: ([Double]) -> Double = { zip($0, lambda).reduce(0) { $0 + $1.0 * $1.1 } }
        let h = 1e-6
        for k in y.indices {
            var plus = y, minus = y
            plus[k] += h
            minus[k] -= h
            #expect(abs(stateBar[k] - (dot(f(plus, w)) - dot(f(minus, w))) / (2 * h)) < 1e-7, "ȳ[\(k)]")
        }
        for k in w.indices {
            var plus = w, minus = w
            plus[k] += h
            minus[k] -= h
            #expect(abs(weightBar[k] - (dot(f(y, plus)) - dot(f(y, minus))) / (2 * h)) < 1e-7, "W̄[\(k)]")
        }
        EventDerivativeTests.check(layer, state: y, parameters: w)
        // A neuron past its K recorded spikes writes no register.
        var full = y
        full[2] = 2.5
        EventDerivativeTests.check(layer, state: full, parameters: w)
    }

    /// The registers hold the first K event times of each neuron, T where there were fewer.
    @Test func registersRecordTheFirstSpikes() throws {
        let layer = try Self.layer()
        let solution = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-10)
            .solve(ODEProblem(system: layer, timeSpan: (0, 30)), output: .finalState)
        for j in 0..<2 {
            let spikes = solution.events.filter { $0.index == j }.map(\.time)
            for k in 0..<2 {
                #expect(solution.finalState[layer.registerIndex(neuron: j, spike: k)] == (k < spikes.count ? spikes[k] : 30), "neuron \(j) spike \(k)")
            }
            #expect(solution.finalState[2 + j] == Double(spikes.count))
        }
        #expect(solution.events.count >= 2)
    }

    /// At the student's seeded start (dopri5 at 1e-11), BPTT and the partial adjoint against central
    /// differences of the same task, every weight within 1e-3 of the largest entry. The inputs'
    /// alpha kernels put kinks into f, so the adaptive solve's noise is larger than on smooth
    /// models and the differences need a relative step of 1e-3 (measured worst deviation from BPTT:
    /// 2.4e-4 at 1e-3, 2.8e-3 at 1e-4, 3.5e-2 at 1e-5: noise, growing as the step shrinks).
    @Test func gradientsMatchFiniteDifferences() throws {
        var configuration = LIFTimingConfiguration.small
        configuration.tolerance = 1e-11
        let problem = try LIFTimingTraining(configuration: configuration)
        let task = problem.task(iteration: 0, seed: 0)
        let theta = problem.initialParameters(seed: 0)
        let reference = try FiniteDifferences(step: 1e-3).estimate(task, at: theta)
        let largest = reference.gradient.map(abs).max() ?? 1
        #expect(reference.loss > 1, "the start is far from the targets: \(reference.loss)")
        let methods: [any GradientMethod] = [
            BackpropagationThroughTime(),
            AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)),
        ]
        for method in methods {
            let estimate = try method.estimate(task, at: theta, iteration: 0)
            #expect(abs(estimate.loss - reference.loss) <= 1e-9 * reference.loss)
            let worst = zip(estimate.gradient, reference.gradient).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-3 * largest, "\(method.name): worst deviation \(worst) of \(largest)")
        }
    }

    /// The conductance form (the leapfrog's view of the layer) is the right-hand side:
    /// (E − G·y)/C = f for every entry, and its pullback ∂E/∂W = u(t) against central differences.
    @Test func conductanceFormIsTheRightHandSide() throws {
        let layer = try Self.layer()
        var y = layer.defaultInitialState
        y[0] = -52; y[1] = -49.95; y[2] = 1; y[4] = 7.5
        let w = layer.defaultParameters, n = layer.dimension
        func coefficients(_ w: [Double], at t: Double) -> (g: [Double], e: [Double]) {
            var g = [Double](repeating: .nan, count: n), e = g
            y.withUnsafeBufferPointer { yb in w.withUnsafeBufferPointer { wb in g.withUnsafeMutableBufferPointer { gb in
                e.withUnsafeMutableBufferPointer { eb in
                    layer.evaluateMembraneCoefficients(at: t, voltages: yb, gates: UnsafeBufferPointer(start: nil, count: 0), parameters: wb, conductance: gb, drive: eb) } } } }
            return (g, e)
        }
        #expect(layer.voltageCount == n)
        for t in [0.5, 4, 8, 13] {
            let (g, e) = coefficients(w, at: t)
            var f = [Double](repeating: 0, count: n)
            y.withUnsafeBufferPointer { yb in w.withUnsafeBufferPointer { wb in f.withUnsafeMutableBufferPointer {
                layer.evaluateRightHandSide(at: t, state: yb, parameters: wb, into: $0) } } }
            let c = w.withUnsafeBufferPointer { layer.capacitance(parameters: $0) }
            for k in 0..<n { #expect(abs((e[k] - g[k] * y[k]) / c - f[k]) <= 1e-12 * (1 + abs(f[k])), "t = \(t), entry \(k)") }
            let eBar = (0..<n).map { 0.3 + 0.1 * Double($0) }
            var weightBar = [Double](repeating: 0, count: w.count)
            var voltageBar = [Double](repeating: 0, count: n)
            y.withUnsafeBufferPointer { yb in w.withUnsafeBufferPointer { wb in eBar.withUnsafeBufferPointer { eb in
                eBar.withUnsafeBufferPointer { gbar in voltageBar.withUnsafeMutableBufferPointer { vb in weightBar.withUnsafeMutableBufferPointer { wbar in
                    layer.accumulateMembraneCoefficientsPullback(
                        at: t, voltages: yb, gates: UnsafeBufferPointer(start: nil, count: 0), parameters: wb, conductanceCotangent: gbar,
                        driveCotangent: eb, voltageCotangent: vb, gateCotangent: UnsafeMutableBufferPointer(start: nil, count: 0),
                        parameterCotangent: wbar, scratch: UnsafeMutableBufferPointer(start: nil, count: 0)) } } } } } }
            let h = 1e-6
            for k in w.indices {
                var plus = w, minus = w
                plus[k] += h
                minus[k] -= h
                let (gp, ep) = coefficients(plus, at: t), (gm, em) = coefficients(minus, at: t)
                var difference = 0.0
                for j in 0..<n { difference += eBar[j] * ((ep[j] - em[j]) + (gp[j] - gm[j])) / (2 * h) }
                #expect(abs(weightBar[k] - difference) < 1e-7, "t = \(t), W̄[\(k)]: \(weightBar[k]) vs \(difference)")
            }
        }
    }

    /// BPTT through the leapfrog on the benchmark (the student's seeded start) converges at second
    /// order to the continuous gradient (BPTT through dopri5 at 1e-12, which
    /// ``gradientsMatchFiniteDifferences()`` checks at 1e-11; the two differ by 4e-8 of the largest
    /// entry): for Δt = 0.04 … 0.005 ms the worst deviation, relative to the largest entry, and the
    /// loss's relative error both stay below 0.01·Δt². The constant fluctuates with Δt (measured
    /// deviation/Δt²: 3.5e-3, 3.2e-3, 2.3e-3, 5.1e-3) because the inputs' alpha kernels put kinks
    /// into f at the input spikes, wherever they fall inside a step, so no clean fourfold ratio.
    @Test func leapfrogBPTTConvergesToTheContinuousGradient() throws {
        var configuration = LIFTimingConfiguration.small
        configuration.tolerance = 1e-12
        let reference = try LIFTimingTraining(configuration: configuration)
        let theta = reference.initialParameters(seed: 0)
        let exact = try BackpropagationThroughTime().estimate(reference.task(iteration: 0, seed: 0), at: theta, iteration: 0)
        let largest = exact.gradient.map(abs).max() ?? 1
        for dt in [0.04, 0.02, 0.01, 0.005] {
            let problem = try LIFTimingTraining(configuration: configuration, leapfrogStep: dt)
            #expect(problem.configuration.leapfrogStep == dt && problem.targets == reference.targets)
            let estimate = try BackpropagationThroughTime().estimate(problem.task(iteration: 0, seed: 0), at: theta, iteration: 0)
            let worst = zip(estimate.gradient, exact.gradient).map { abs($0 - $1) }.max()! / largest
            #expect(worst < 0.01 * dt * dt, "Δt \(dt): worst deviation \(worst) of the largest entry")
            #expect(abs(estimate.loss - exact.loss) < 0.01 * dt * dt * exact.loss, "Δt \(dt): loss \(estimate.loss) vs \(exact.loss)")
        }
        #expect(throws: TrainingError.self) { try LIFTimingTraining(configuration: configuration, leapfrogStep: 0) }
        var mismatched = configuration
        mismatched.leapfrogStep = 0.01
        #expect(throws: TrainingError.self) { try LIFTimingTraining(configuration: mismatched) }
    }

    /// The two spike-timing formulations agree on a one-neuron layer: the registers observed at T
    /// (a ``TrainingTask``) and the event times themselves (``SpikeTimingTask``) give the same loss
    /// and BPTT gradient, which central differences (step 1e-3, see below) confirm.
    @Test func registerAndEventTimeLossesAgree() throws {
        let one = try LIFLayer(neurons: 1, inputSpikes: [[1, 6], [3], [2, 9, 12]], weights: [9, 6, 8], recordedSpikes: 2, horizon: 30)
        let integrator = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-11)
        let events = try SpikeTimingTask(
            name: "events", system: one, horizon: 30, integrator: integrator, loss: SpikeTimingLoss(targets: [5, 12]),
            training: one.parameterNames)
        let registers = try TrainingTask(
            name: "registers", system: one, timeSpan: (0, 30), integrator: integrator,
            loss: SpikeRegisterLoss(endTime: 30, registers: [2, 3], targets: [5, 12], dimension: one.dimension),
            training: one.parameterNames)
        let theta = [9.0, 6, 8]
        let a = try events.estimate(with: BackpropagationThroughTime(), at: theta, iteration: 0)
        let b = try BackpropagationThroughTime().estimate(registers, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-3).estimate(registers, at: theta)
        #expect(abs(a.loss - b.loss) <= 1e-12 * a.loss)
        for k in theta.indices {
            #expect(abs(a.gradient[k] - b.gradient[k]) <= 1e-9 * abs(a.gradient[k]))
            #expect(abs(b.gradient[k] - reference.gradient[k]) <= 1e-4 * abs(reference.gradient[k]), "\(b.gradient) vs fd \(reference.gradient)")
        }
    }


    /// BPTT with the default Adam reaches the target (loss < 0.25 ms², measured at iteration 36)
    /// within 60 iterations, from a start above 40 ms².
    @Test func bpttReachesTheTarget() throws {
        let problem = try LIFTimingTraining()
        let configuration = TrainerConfiguration(iterations: 60)
        let trainer = Trainer(problem: problem, method: BackpropagationThroughTime(), optimizer: Adam(learningRate: 0.1), configuration: configuration)
        let state = try trainer.run()
        let losses = state.log.map(\.loss)
        #expect(losses.first! > 40)
        #expect(losses.contains { $0 < problem.target.threshold }, "best \(losses.min()!)")
    }
}
