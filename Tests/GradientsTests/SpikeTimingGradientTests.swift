import Foundation
import Gradients
import NeuroODE
import Testing

/// Gradients through resets on the spike-timing task: the partial adjoint and BPTT with their event
/// jumps against the LIF closed form and against finite differences (LIF and Izhikevich), ES and FD
/// through the same task, and the refusals of the methods that cannot differentiate events.
@Suite struct SpikeTimingGradientTests {
    static let tight = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-11)
    static let backward = DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
    /// The methods that differentiate through the resets of a dopri5 forward pass.
    static let eventMethods: [any GradientMethod] = [
        AdjointMethod(variant: .partial, backwardIntegrator: backward), BackpropagationThroughTime(),
    ]
    static let lifNames = ["tau", "EL", "R", "I", "Vth", "Vreset"]

    /// The LIF closed form with constant input from V₀ (held fixed): t₁ = τ ln((V∞ − V₀)/(V∞ − Vth)),
    /// then every D = tref + τ ln((V∞ − Vreset)/(V∞ − Vth)), V∞ = EL + RI; and the derivatives of
    /// L = (1/K)Σ(tₖ − targetₖ)² with respect to (τ, EL, R, I, Vth, Vreset), written out by hand.
    static func closedForm(_ p: [Double], v0: Double, tref: Double, targets: [Double]) -> (times: [Double], loss: Double, gradient: [Double]) {
        let (tau, el, r, i, vth, reset) = (p[0], p[1], p[2], p[3], p[4], p[5])
        let vInf = el + r * i
        let a = log((vInf - v0) / (vInf - vth)), b = log((vInf - reset) / (vInf - vth))
        let t1 = tau * a, d = tref + tau * b
        let dt1dV = tau * (1 / (vInf - v0) - 1 / (vInf - vth)), dDdV = tau * (1 / (vInf - reset) - 1 / (vInf - vth))
        // ∂t₁/∂θ and ∂D/∂θ in the order (τ, EL, R, I, Vth, Vreset).
        let firstGradient = [a, dt1dV, dt1dV * i, dt1dV * r, tau / (vInf - vth), 0]
        let periodGradient = [b, dDdV, dDdV * i, dDdV * r, tau / (vInf - vth), -tau / (vInf - reset)]
        let k = Double(targets.count)
        var times: [Double] = [], loss = 0.0, gradient = [Double](repeating: 0, count: 6)
        for (n, target) in targets.enumerated() {
            let t = t1 + Double(n) * d
            times.append(t)
            loss += (t - target) * (t - target) / k
            for j in 0..<6 { gradient[j] += 2 * (t - target) / k * (firstGradient[j] + Double(n) * periodGradient[j]) }
        }
        return (times, loss, gradient)
    }

    static func lifTask<M: Integrator>(
        tref: Double, current: Double = 2, targets: [Double], horizon: Double = 100, integrator: M
    ) throws -> SpikeTimingTask<LeakyIntegrateAndFire, M> {
        let lif = LeakyIntegrateAndFire(current: current, refractoryPeriod: tref)
        return try SpikeTimingTask(
            name: "spike-timing", system: lif, horizon: horizon, integrator: integrator,
            loss: SpikeTimingLoss(targets: targets), training: lifNames)
    }

    static func close(_ a: [Double], _ b: [Double], _ tolerance: Double) -> Bool {
        let scale = b.map(abs).max() ?? 1
        return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(abs($1), 1e-3 * scale) }
    }

    @Test(arguments: [0.0, 2.0])
    func lifAdjointMatchesTheClosedForm(tref: Double) throws {
        let targets = [12.0, 26.0, 41.0]
        let task = try Self.lifTask(tref: tref, targets: targets, integrator: Self.tight)
        let theta = task.trainedParameters.map { task.systemParameters[$0] }
        let exact = Self.closedForm(theta, v0: -65, tref: tref, targets: targets)
        let times = try task.spikeTimes(at: theta)
        #expect(Self.close(times, exact.times, 1e-9), "spikes \(times) vs \(exact.times)")
        for method in Self.eventMethods {
            let estimate = try task.estimate(with: method, at: theta, iteration: 0)
            #expect(abs(estimate.loss - exact.loss) <= 1e-8 * exact.loss)
            #expect(Self.close(estimate.gradient, exact.gradient, 1e-6), "\(method.name) \(estimate.gradient) vs closed form \(exact.gradient)")
        }
        let differences = try task.estimate(with: FiniteDifferences(step: 1e-5), at: theta, iteration: 0)
        #expect(Self.close(differences.gradient, exact.gradient, 1e-4), "fd \(differences.gradient) vs closed form \(exact.gradient)")
    }

    /// Through CVODE's forward pass (its root finder locates the resets) the partial adjoint runs
    /// through CVODES' adjoint module, restarted on each piece between resets, and matches the
    /// closed form at CVODE's coarser accuracy, for both CVODE methods and with or without a
    /// refractory hold; central differences of the same CVODE forward pass agree. The backward
    /// integrator is the leapfrog, which cannot integrate backward: the stored-trajectory path would
    /// fail, so the gradient comes from CVODES.
    @Test(arguments: [CVODE.Method.bdf, .adams], [0.0, 2.0])
    func lifAdjointThroughCVODESMatchesTheClosedForm(method: CVODE.Method, tref: Double) throws {
        let targets = [12.0, 26.0, 41.0]
        let cvode = CVODE(method: method, relativeTolerance: 1e-10, absoluteTolerance: 1e-10)
        let task = try Self.lifTask(tref: tref, targets: targets, integrator: cvode)
        let theta = task.trainedParameters.map { task.systemParameters[$0] }
        let exact = Self.closedForm(theta, v0: -65, tref: tref, targets: targets)
        let adjoint = try task.estimate(with: AdjointMethod(variant: .partial, backwardIntegrator: Leapfrog(stepSize: 0.01)), at: theta, iteration: 0)
        #expect(abs(adjoint.loss - exact.loss) <= 1e-5 * exact.loss, "loss \(adjoint.loss) vs \(exact.loss)")
        #expect(Self.close(adjoint.gradient, exact.gradient, 1e-4), "\(method) adjoint \(adjoint.gradient) vs closed form \(exact.gradient)")
        #expect(adjoint.report.vectorJacobianProducts > 0 && adjoint.report.bytesStored > 0)
        // CVODE's spike times carry ≈ 1e-7 ms of solver noise: the differences take a wider step
        // (noise and truncation each ≈ 3e-5 relative), so the bar is wider too.
        let differences = try task.estimate(with: FiniteDifferences(step: 1e-4), at: theta, iteration: 0)
        #expect(Self.close(adjoint.gradient, differences.gradient, 1e-3), "\(method) adjoint \(adjoint.gradient) vs fd \(differences.gradient)")
    }

    /// Izhikevich through CVODE (every preset, θ = a, b, c, d, I): the CVODES adjoint, restarted at
    /// each reset, against central differences of the same CVODE BDF forward pass.
    @Test(arguments: Izhikevich.Preset.allCases)
    func izhikevichAdjointThroughCVODESMatchesFiniteDifferences(preset: Izhikevich.Preset) throws {
        let system = Izhikevich(preset: preset)
        let cvode = CVODE(method: .bdf, relativeTolerance: 1e-10, absoluteTolerance: 1e-10)
        let spikes = try cvode.solve(ODEProblem(system: system, timeSpan: (0, 60)), output: .finalState).events.map(\.time)
        try #require(spikes.count >= 2)
        let task = try SpikeTimingTask(
            name: "izhikevich-spike-timing", system: system, horizon: 60, integrator: cvode,
            loss: SpikeTimingLoss(targets: [spikes[0] + 0.5, spikes[1] - 0.7]), training: Izhikevich.parameterNames)
        let theta = system.defaultParameters
        let reference = try task.estimate(with: FiniteDifferences(step: 1e-5), at: theta, iteration: 0)
        let adjoint = try task.estimate(with: AdjointMethod(variant: .partial, backwardIntegrator: Self.backward), at: theta, iteration: 0)
        #expect(adjoint.loss == reference.loss)
        #expect(Self.close(adjoint.gradient, reference.gradient, 1e-4), "\(preset): \(adjoint.gradient) vs fd \(reference.gradient)")
    }

    /// Fewer spikes than targets: the missing one counts as firing at T (a constant term), so the
    /// gradient is the closed form's over the spikes that occurred, with the same 1/K.
    @Test func missingSpikesArePenalisedAtTheHorizon() throws {
        let targets = [12.0, 26.0, 41.0], horizon = 35.0
        let task = try Self.lifTask(tref: 2, targets: targets, horizon: horizon, integrator: Self.tight)
        let theta = task.trainedParameters.map { task.systemParameters[$0] }
        let fired = Self.closedForm(theta, v0: -65, tref: 2, targets: targets)
        #expect(fired.times[1] < horizon && fired.times[2] > horizon)
        let twoTerms = (fired.times[0] - 12) * (fired.times[0] - 12) + (fired.times[1] - 26) * (fired.times[1] - 26)
        let expectedLoss = (twoTerms + (horizon - 41) * (horizon - 41)) / 3
        let twoSpikeGradient = Self.closedForm(theta, v0: -65, tref: 2, targets: [12, 26]).gradient.map { $0 * 2 / 3 }
        for method in Self.eventMethods {
            let estimate = try task.estimate(with: method, at: theta, iteration: 0)
            #expect(abs(estimate.loss - expectedLoss) <= 1e-8 * expectedLoss)
            #expect(Self.close(estimate.gradient, twoSpikeGradient, 1e-6), "\(method.name) \(estimate.gradient) vs \(twoSpikeGradient)")
        }
    }

    /// Izhikevich (every preset, θ = a, b, c, d, I; c and d act only through the reset): the
    /// adjoint against central differences of the same dopri5 forward pass.
    @Test(arguments: Izhikevich.Preset.allCases)
    func izhikevichAdjointMatchesFiniteDifferences(preset: Izhikevich.Preset) throws {
        let system = Izhikevich(preset: preset)
        let spikes = try Self.tight.solve(ODEProblem(system: system, timeSpan: (0, 100)), output: .finalState).events.map(\.time)
        try #require(spikes.count >= 3)
        // Targets a little off the current spikes, so that every term pulls.
        let targets = [spikes[0] + 0.5, spikes[1] - 0.7, spikes[2] + 1.1]
        let task = try SpikeTimingTask(
            name: "izhikevich-spike-timing", system: system, horizon: 100, integrator: Self.tight,
            loss: SpikeTimingLoss(targets: targets), training: Izhikevich.parameterNames)
        let theta = system.defaultParameters
        let reference = try task.estimate(with: FiniteDifferences(step: 1e-5), at: theta, iteration: 0)
        for method in Self.eventMethods {
            let estimate = try task.estimate(with: method, at: theta, iteration: 0)
            #expect(estimate.loss == reference.loss)
            #expect(Self.close(estimate.gradient, reference.gradient, 1e-4), "\(preset) \(method.name): \(estimate.gradient) vs fd \(reference.gradient)")
        }
    }

    /// BPTT through the leapfrog's steps (Δt = 0.01 ms), each reset located on the step's
    /// interpolant: the spike times and the gradient against the closed form (both O(Δt²)), and the
    /// gradient against central differences of the same leapfrog forward pass, whose spike times
    /// move continuously with θ but carry the interpolant's O(Δt) term (relative size at most
    /// Δt/(2τ) = 5e-4 here, README "Gradients through events"), for both variants of the scheme.
    @Test(arguments: [0.0, 2.0], Leapfrog.InstantaneousVoltage.allCases)
    func lifLeapfrogBPTTMatchesTheClosedForm(tref: Double, variant: Leapfrog.InstantaneousVoltage) throws {
        let targets = [12.0, 26.0, 41.0]
        let task = try Self.lifTask(tref: tref, targets: targets, integrator: Leapfrog(stepSize: 0.01, instantaneousVoltage: variant))
        let theta = task.trainedParameters.map { task.systemParameters[$0] }
        let exact = Self.closedForm(theta, v0: -65, tref: tref, targets: targets)
        let times = try task.spikeTimes(at: theta)
        #expect(Self.close(times, exact.times, 1e-6), "spikes \(times) vs \(exact.times)")
        let bptt = try task.estimate(with: BackpropagationThroughTime(), at: theta, iteration: 0)
        #expect(abs(bptt.loss - exact.loss) <= 1e-6 * exact.loss, "loss \(bptt.loss) vs \(exact.loss)")
        #expect(Self.close(bptt.gradient, exact.gradient, 1e-5), "bptt \(bptt.gradient) vs closed form \(exact.gradient)")
        let differences = try task.estimate(with: FiniteDifferences(step: 1e-5), at: theta, iteration: 0)
        #expect(Self.close(bptt.gradient, differences.gradient, 1e-3), "bptt \(bptt.gradient) vs fd \(differences.gradient)")
    }

    /// Izhikevich through the leapfrog: BPTT with the event jumps converges at second order to the
    /// gradient of the continuous problem (central differences of a tight dopri5 forward pass):
    /// halving Δt from 0.005 ms divides the largest relative error by about four. (Differences of the
    /// leapfrog forward pass itself carry the interpolant's O(Δt) term, Δt·|v″|/(2|v′|) ≈ 2 % at
    /// the spike's steep upstroke, so they are not the reference here.)
    @Test(arguments: Izhikevich.Preset.allCases)
    func izhikevichLeapfrogBPTTConvergesToTheContinuousGradient(preset: Izhikevich.Preset) throws {
        let system = Izhikevich(preset: preset)
        let spikes = try Self.tight.solve(ODEProblem(system: system, timeSpan: (0, 60)), output: .finalState).events.map(\.time)
        try #require(spikes.count >= 2)
        let loss = try SpikeTimingLoss(targets: [spikes[0] + 0.5, spikes[1] - 0.7])
        func task<M: Integrator>(_ integrator: M) throws -> SpikeTimingTask<Izhikevich, M> {
            try SpikeTimingTask(
                name: "izhikevich-spike-timing", system: system, horizon: 60, integrator: integrator, loss: loss,
                training: Izhikevich.parameterNames)
        }
        let theta = system.defaultParameters
        let reference = try task(Self.tight).estimate(with: FiniteDifferences(step: 1e-5), at: theta, iteration: 0).gradient
        let scale = reference.map(abs).max() ?? 1
        let errors = try [0.005, 0.0025].map { dt in
            let gradient = try task(Leapfrog(stepSize: dt)).estimate(with: BackpropagationThroughTime(), at: theta, iteration: 0).gradient
            return zip(gradient, reference).map { abs($0 - $1) / max(abs($1), 1e-3 * scale) }.max() ?? 0
        }
        // Measured: 5.2e-4 → 1.2e-4 (regular spiking) … 1.2e-3 → 2.9e-4 (chattering), ratios 4.1–4.2.
        #expect(errors[1] < 5e-4 && errors[0] / errors[1] > 3.5 && errors[0] / errors[1] < 4.7, "\(preset): relative errors \(errors)")
    }

    /// ES through the task: with θ = (I) alone and many mirrored samples at a small σ its estimate
    /// is the closed-form derivative up to its sampling noise (≈ √(2/S) ≈ 5 % at S = 800).
    @Test func evolutionStrategyEstimatesTheClosedForm() throws {
        let targets = [12.0, 26.0]
        let lif = LeakyIntegrateAndFire(refractoryPeriod: 2)
        let task = try SpikeTimingTask(
            name: "spike-timing", system: lif, horizon: 60, integrator: Self.tight,
            loss: SpikeTimingLoss(targets: targets), training: ["I"])
        let exact = Self.closedForm(lif.defaultParameters, v0: -65, tref: 2, targets: targets)
        let es = try task.estimate(with: EvolutionStrategy(samples: 800, sigma: 1e-3, seed: 3), at: [2], iteration: 0)
        #expect(abs(es.gradient[0] - exact.gradient[3]) <= 0.2 * abs(exact.gradient[3]), "es \(es.gradient[0]) vs \(exact.gradient[3])")
    }

    @Test func methodsThatCannotDifferentiateEventsRefuse() throws {
        let task = try Self.lifTask(tref: 2, targets: [12], integrator: Self.tight)
        let theta = task.trainedParameters.map { task.systemParameters[$0] }
        let refusals: [(any GradientMethod, String)] = [
            (BackpropagationThroughTime(checkpointing: .squareRoot), "bptt-checkpointed with dopri5"),
            (AdjointMethod(variant: .full, backwardIntegrator: Self.backward), "adjoint-full with dopri5"),
        ]
        for (method, name) in refusals {
            #expect(throws: TrainingError.eventsUnsupported(model: "lif", method: name)) {
                try task.estimate(with: method, at: theta, iteration: 0)
            }
        }
        let leapfrog = try Self.lifTask(tref: 2, targets: [12], integrator: Leapfrog(stepSize: 0.01))
        #expect(throws: TrainingError.eventsUnsupported(model: "lif", method: "adjoint-partial with leapfrog")) {
            try leapfrog.estimate(with: AdjointMethod(variant: .partial, backwardIntegrator: Self.backward), at: theta, iteration: 0)
        }
        #expect(throws: TrainingError.eventsUnsupported(model: "lif", method: "bptt-checkpointed with leapfrog")) {
            try leapfrog.estimate(with: BackpropagationThroughTime(checkpointing: .squareRoot), at: theta, iteration: 0)
        }
        let cvode = try Self.lifTask(tref: 2, targets: [12], integrator: CVODE())
        #expect(throws: TrainingError.eventsUnsupported(model: "lif", method: "bptt with cvode-bdf")) {
            try cvode.estimate(with: BackpropagationThroughTime(), at: theta, iteration: 0)
        }
        #expect(throws: TrainingError.self) { try SpikeTimingLoss(targets: [3, 2]) }
        #expect(throws: TrainingError.self) { try SpikeTimingLoss(targets: []) }
    }
}

/// The event derivatives of the built-in spiking models against central differences of their
/// resets and event functions.
@Suite struct EventDerivativeTests {
    static func check<S: DifferentiableEventSystem>(_ system: S, state: [Double], parameters: [Double]) {
        let n = system.dimension, p = parameters.count, h = 1e-6
        func reset(_ index: Int, _ y: [Double], _ theta: [Double], at t: Double = 1) -> [Double] {
            var out = y
            theta.withUnsafeBufferPointer { tb in out.withUnsafeMutableBufferPointer { system.applyEvent(index, at: t, state: $0, parameters: tb) } }
            return out
        }
        func g(_ index: Int, _ t: Double, _ y: [Double], _ theta: [Double]) -> Double {
            var values = [Double](repeating: 0, count: system.eventCount)
            try? y.withUnsafeBufferPointer { yb in
                try theta.withUnsafeBufferPointer { tb in
                    try values.withUnsafeMutableBufferPointer { try system.evaluateEventFunctions(at: t, state: yb, parameters: tb, into: $0) }
                }
            }
            return values[index]
        }
        let lambda = (0..<n).map { 0.3 + Double($0) }
        for index in 0..<system.eventCount {
            var stateBar = [Double](repeating: 0, count: n), parameterBar = [Double](repeating: 0, count: p)
            var gy = [Double](repeating: 0, count: n), gp = [Double](repeating: 0, count: p)
            var gt = 0.0, resetTime = 0.0
            state.withUnsafeBufferPointer { yb in
                parameters.withUnsafeBufferPointer { pb in
                    lambda.withUnsafeBufferPointer { lb in
                        stateBar.withUnsafeMutableBufferPointer { sb in
                            parameterBar.withUnsafeMutableBufferPointer { gb in
                                resetTime = system.accumulateResetPullback(index, at: 1, state: yb, parameters: pb, cotangent: lb, stateCotangent: sb, parameterCotangent: gb)
                            }
                        }
                    }
                    gy.withUnsafeMutableBufferPointer { a in
                        gp.withUnsafeMutableBufferPointer { b in gt = system.eventFunctionGradient(index, at: 1, state: yb, parameters: pb, stateGradient: a, parameterGradient: b) }
                    }
                }
            }
            let dot: ([Double]) -> Double = { zip($0, lambda).reduce(0) { $0 + $1.0 * $1.1 } }
            for j in 0..<n {
                var plus = state, minus = state
                plus[j] += h
                minus[j] -= h
                #expect(abs(stateBar[j] - (dot(reset(index, plus, parameters)) - dot(reset(index, minus, parameters))) / (2 * h)) < 1e-6, "\(system.name) event \(index) ∂h/∂y[\(j)]")
                #expect(abs(gy[j] - (g(index, 1, plus, parameters) - g(index, 1, minus, parameters)) / (2 * h)) < 1e-6, "\(system.name) event \(index) ∂g/∂y[\(j)]")
            }
            for k in 0..<p {
                var plus = parameters, minus = parameters
                plus[k] += h
                minus[k] -= h
                #expect(abs(parameterBar[k] - (dot(reset(index, state, plus)) - dot(reset(index, state, minus))) / (2 * h)) < 1e-6, "\(system.name) event \(index) ∂h/∂θ[\(k)]")
                #expect(abs(gp[k] - (g(index, 1, state, plus) - g(index, 1, state, minus)) / (2 * h)) < 1e-6, "\(system.name) event \(index) ∂g/∂θ[\(k)]")
            }
            #expect(abs(gt - (g(index, 1 + h, state, parameters) - g(index, 1 - h, state, parameters)) / (2 * h)) < 1e-6)
            #expect(abs(resetTime - (dot(reset(index, state, parameters, at: 1 + h)) - dot(reset(index, state, parameters, at: 1 - h))) / (2 * h)) < 1e-6,
                    "\(system.name) event \(index) λᵀ∂h/∂t")
        }
    }

    @Test func builtInModels() {
        Self.check(LeakyIntegrateAndFire(), state: [-49.9], parameters: [10, -65, 10, 2, -50, -65])
        Self.check(LeakyIntegrateAndFire(refractoryPeriod: 2), state: [-49.9, 0.3], parameters: [10, -65, 10, 2, -50, -64])
        Self.check(Izhikevich(preset: .chattering), state: [30.1, -8], parameters: [0.02, 0.2, -50, 2, 10])
    }
}
