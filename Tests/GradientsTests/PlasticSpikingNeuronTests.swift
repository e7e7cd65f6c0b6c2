import Foundation
import Testing
import NeuroODE
@testable import Gradients

@Suite struct PlasticSpikingNeuronTests {
    /// One group: an excitatory spike of weight 2 at 50 ms that makes the neuron fire exactly once a
    /// few ms later, and one inhibitory spike at `pre` ms.
    func pairNeuron(pre: Double, rule: [Double], eta: Double, tracesTimeConstant: Double = 20) throws -> PlasticSpikingNeuron {
        let spikes = [(50.0, Int32(0)), (pre, Int32(1))].sorted { $0.0 < $1.0 }
        return try PlasticSpikingNeuron(
            excitatoryWeights: [2], inputTimes: spikes.map(\.0), inputChannels: spikes.map(\.1), initialWeights: [0.05],
            windowStart: 0, rule: rule, eta: eta, tracesTimeConstant: tracesTimeConstant)
    }

    /// The simulated weight change of one pre–post pair equals the family's closed form at the
    /// measured delay, on both sides of the window, for Vogels' rule and for a rule with every
    /// coefficient and unequal trace time constants (the closed form comes from the traces' exact
    /// exponential decay, not from the simulation).
    @Test(arguments: [-60.0, -25.0, -8.0, 15.0, 30.0, 45.0])
    func pairWeightChangeMatchesTheClosedForm(offset: Double) throws {
        let integrator = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-12)
        let general: [Double] = [-0.3, 0.15, 0.7, 1.3]
        for (rule, tauPre, tauPost) in [(PlasticSpikingNeuron.vogelsRule(targetRate: 5), 20.0, 20.0), (general, 15.0, 25.0)] {
            let eta = 0.01
            // The post spike follows the excitatory spike at 50 ms by a few ms; `offset` places the pre spike around it.
            let neuron = try pairNeuron(pre: 53 - offset, rule: rule, eta: eta)
            var parameters = neuron.defaultParameters
            parameters[5] = tauPre
            parameters[6] = tauPost
            let solution = try integrator.solve(ODEProblem(system: neuron, parameters: parameters, timeSpan: (0, 200)), output: .finalState)
            let post = solution.events.filter { $0.index == 0 }.map(\.time)
            #expect(post.count == 1, "one postsynaptic spike, got \(post)")
            guard let tPost = post.first else { continue }
            let delay = tPost - (53 - offset)
            let expected = eta * PlasticSpikingNeuron.pairWeightChange(delay: delay, rule: rule, preTimeConstant: tauPre, postTimeConstant: tauPost)
            let simulated = solution.finalState[neuron.weightIndex] - 0.05
            #expect(abs(simulated - expected) < 1e-9, "Δt = \(delay): simulated \(simulated), closed form \(expected)")
        }
    }

    /// Vogels' window is the paper's: e^(−|Δt|/τ) − 2ρ₀τ, symmetric, negative beyond |Δt| = τ ln(1/α).
    @Test func vogelsWindowIsSymmetricWithANegativeOffset() {
        let rule = PlasticSpikingNeuron.vogelsRule(targetRate: 5)
        #expect(rule == [-0.2, 0, 1, 1])
        for delay in [0.5, 10, 40, 100] {
            let plus = PlasticSpikingNeuron.pairWeightChange(delay: delay, rule: rule)
            #expect(abs(plus - PlasticSpikingNeuron.pairWeightChange(delay: -delay, rule: rule)) < 1e-15)
            #expect(abs(plus - (exp(-delay / 20) - 0.2)) < 1e-15)
        }
    }

    /// The right-hand side's pullback against central differences, in and out of the refractory period.
    @Test func pullbackMatchesCentralDifferencesOfTheRightHandSide() throws {
        let neuron = try PlasticSpikingNeuron(
            excitatoryWeights: [0.1, 0.3], inputTimes: [1, 2], inputChannels: [0, 3], initialWeights: [0.2, 0.4], windowStart: 0,
            rule: [-0.2, 0.1, 0.8, 1.1], eta: 0.01, tracesTimeConstant: 17)
        var generator = SeededGenerator(seed: 5)
        for refractory in [0.0, 1.0] {
            var y = (0..<neuron.dimension).map { _ in generator.nextUniform(in: 0.1..<1) }
            y[0] = -55
            y[4] = refractory
            let p = neuron.defaultParameters
            let lambda = (0..<neuron.dimension).map { _ in generator.nextGaussian() }
            func f(_ y: [Double], _ p: [Double]) -> [Double] {
                var out = [Double](repeating: 0, count: y.count)
                y.withUnsafeBufferPointer { yy in p.withUnsafeBufferPointer { pp in out.withUnsafeMutableBufferPointer { oo in
                    neuron.evaluateRightHandSide(at: 3, state: yy, parameters: pp, into: oo)
                } } }
                return out
            }
            func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            var yBar = [Double](repeating: 0, count: y.count), pBar = [Double](repeating: 0, count: p.count)
            y.withUnsafeBufferPointer { yy in p.withUnsafeBufferPointer { pp in lambda.withUnsafeBufferPointer { ll in
                yBar.withUnsafeMutableBufferPointer { yb in pBar.withUnsafeMutableBufferPointer { pb in
                    neuron.accumulatePullback(at: 3, state: yy, parameters: pp, cotangent: ll, stateCotangent: yb, parameterCotangent: pb)
                } }
            } } }
            let h = 1e-6
            for j in y.indices where j != 4 {
                var plus = y, minus = y
                plus[j] += h; minus[j] -= h
                let reference = (dot(lambda, f(plus, p)) - dot(lambda, f(minus, p))) / (2 * h)
                #expect(abs(yBar[j] - reference) < 1e-7 * max(1, abs(reference)), "\(neuron.stateNames[j]), refractory \(refractory)")
            }
            for k in p.indices {
                var plus = p, minus = p
                plus[k] += h; minus[k] -= h
                let reference = (dot(lambda, f(y, plus)) - dot(lambda, f(y, minus))) / (2 * h)
                #expect(abs(pBar[k] - reference) < 1e-7 * max(1, abs(reference)), "\(neuron.parameterNames[k])")
            }
        }
    }

    /// A short istdp inner run: 2 groups, 400 ms scored over the last 150 ms, at a rule that moves
    /// every coefficient's terms.
    func smallTask(tolerance: Double = 1e-10) throws -> TrainingTask<PlasticSpikingNeuron, DormandPrince, BalancedRateLoss> {
        var configuration = ISTDPTraining.Configuration.small
        configuration.groups = 2
        configuration.excitatoryWeight = 0.3  // the drive of 8 groups' in 2
        configuration.duration = 400
        configuration.window = 150
        configuration.eta = 0.01
        configuration.tolerance = tolerance
        return try ISTDPTraining(configuration: configuration).task(iteration: 0, seed: 3)
    }

    /// Gradients through the plastic spiking network — every input spike, postsynaptic spike,
    /// refractory release and the window's start an event — agree with central finite differences
    /// of the whole inner run: BPTT through the dopri5 steps between events and the partial adjoint.
    @Test func gradientsThroughTheLearningProcessMatchFiniteDifferences() throws {
        let task = try smallTask()
        let theta: [Double] = [-0.25, 0.08, 0.9, 1.2]
        let forward = try task.forward(at: theta)
        let postSpikes = forward.events.filter { $0.index == 0 }.count
        #expect(postSpikes >= 3, "the neuron must fire for the test to mean something (\(postSpikes) spikes)")
        var reference = [Double](repeating: 0, count: 4)
        for k in 0..<4 {
            let h = 1e-5
            var plus = theta, minus = theta
            plus[k] += h; minus[k] -= h
            reference[k] = (try task.loss(at: plus) - task.loss(at: minus)) / (2 * h)
        }
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let adjoint = try AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12))
            .estimate(task, at: theta, iteration: 0)
        let scale = reference.map(abs).max() ?? 1
        #expect(scale > 1e-3)
        for k in 0..<4 {
            #expect(abs(bptt.gradient[k] - reference[k]) < 1e-4 * scale, "bptt \(task.parameterNames[k]): \(bptt.gradient[k]) vs FD \(reference[k])")
            #expect(abs(adjoint.gradient[k] - reference[k]) < 1e-3 * scale, "adjoint \(task.parameterNames[k]): \(adjoint.gradient[k]) vs FD \(reference[k])")
        }
    }

    /// The full adjoint cannot backsolve through resets and refuses before computing.
    @Test func fullAdjointRefusesTheEvents() throws {
        let task = try smallTask(tolerance: 1e-6)
        #expect(throws: TrainingError.eventsUnsupported(model: "plastic-spiking", method: "adjoint-full")) {
            _ = try AdjointMethod(variant: .full, backwardIntegrator: DormandPrince()).estimate(task, at: [0, 0, 0, 0], iteration: 0)
        }
    }

    /// The meta-loss as a function of the rate, balanced profile held: 0 exactly at ρ₀, rising on
    /// both sides as ((ρ − ρ₀)/ρ₀)²; and its gradient against central differences.
    @Test func metaLossIsMinimalAtTheTargetRate() {
        let weights = [0.5, 1.0, 2.0]
        let loss = BalancedRateLoss(targetRate: 5, excitatoryWeights: weights, windowLength: 2000, rateIntegralIndex: 0, weightIntegralIndex: 1, time: 3000)
        func state(rate: Double, profile: [Double]) -> [Double] { [rate * 2] + profile }  // R = ρ·W/1000
        let rates = stride(from: 1.0, through: 9.0, by: 0.5).map { $0 }
        let values = rates.map { loss.valueAndGradient(integrals: [], observations: state(rate: $0, profile: weights.map { 7 * $0 }), parameters: []).value }
        let best = rates[values.indices.min { values[$0] < values[$1] }!]
        #expect(best == 5)
        #expect(abs(values[rates.firstIndex(of: 5)!]) < 1e-15)
        #expect(abs(values[rates.firstIndex(of: 7.5)!] - 0.25) < 1e-12)
        // A flat inhibitory profile costs the variance of the normalised excitatory one.
        let flat = loss.terms(state(rate: 5, profile: [1, 1, 1])).balance
        let normalised = weights.map { $0 / (3.5 / 3) }
        #expect(abs(flat - normalised.reduce(0) { $0 + ($1 - 1) * ($1 - 1) } / 3) < 1e-12)
        #expect(loss.terms(state(rate: 5, profile: [0, 0, 0])).balance == .infinity)
        let y = state(rate: 3.7, profile: [0.3, 1.1, 0.8])
        let analytic = loss.valueAndGradient(integrals: [], observations: y, parameters: []).observations
        for k in y.indices {
            var plus = y, minus = y
            plus[k] += 1e-6; minus[k] -= 1e-6
            let reference = (loss.value(integrals: [], observations: plus, parameters: [])
                - loss.value(integrals: [], observations: minus, parameters: [])) / 2e-6
            #expect(abs(analytic[k] - reference) < 1e-6 * max(1, abs(reference)))
        }
    }

    /// On the benchmark itself, Vogels' rule brings the rate from the origin's (no plasticity)
    /// towards ρ₀ and lowers the meta-loss; its distance to itself is 0 at any positive scale.
    @Test func vogelsRuleSolvesTheSmallBenchmarkBetterThanNoPlasticity() throws {
        let problem = try ISTDPTraining()
        let task = try problem.task(iteration: 0, seed: 0)
        let none = try task.loss(at: [0, 0, 0, 0]), vogels = try task.loss(at: problem.vogelsRule)
        #expect(vogels < 0.5 * none, "Vogels \(vogels), no plasticity \(none)")
        #expect(problem.distanceToVogels(problem.vogelsRule.map { 3 * $0 }) < 1e-12)
        #expect(problem.distanceToVogels(problem.vogelsRule.map { -$0 }) == 1)
    }
}
