import Dispatch
import Foundation
import Testing
@testable import Gradients
@testable import NeuroODE

/// A rotation y₁' = ω y₂, y₂' = −ω y₁: volume-preserving and exactly reversible.
struct Rotation: ODESystem {
    var name: String { "rotation" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["omega"] }
    var defaultParameters: [Double] { [1] }
    var defaultInitialState: [Double] { [1, 0] }
    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into d: UnsafeMutableBufferPointer<Double>
    ) {
        d[0] = p[0] * y[1]
        d[1] = -p[0] * y[0]
    }
}

@Suite struct GaussHermiteRuleTests {
    /// E[ε^{2k}] = (2k − 1)!! for ε ~ N(0, 1), odd moments 0: exact for degrees below 2n.
    @Test(arguments: [1, 2, 5, 12, 40])
    func integratesPolynomialsExactly(order: Int) throws {
        let rule = try GaussHermiteRule(order: order)
        #expect(rule.nodes.count == order && rule.weights.allSatisfy { $0 > 0 })
        #expect(zip(rule.nodes, rule.nodes.dropFirst()).allSatisfy { $0 < $1 })
        var doubleFactorial = 1.0
        for degree in 0..<(2 * order) {
            let moment = rule.expectation { pow($0, Double(degree)) }
            if degree % 2 == 1 {
                #expect(abs(moment) <= 1e-12 * max(1, doubleFactorial * Double(degree)), "degree \(degree)")
            } else {
                if degree > 0 { doubleFactorial *= Double(degree - 1) }
                #expect(abs(moment - doubleFactorial) <= 1e-11 * doubleFactorial, "order \(order), degree \(degree): \(moment) vs \(doubleFactorial)")
            }
        }
    }

    /// The three-point rule in closed form: nodes 0, ±√3 with weights 2/3, 1/6.
    @Test func threePointRule() throws {
        let rule = try GaussHermiteRule(order: 3)
        #expect(abs(rule.nodes[0] + 3.0.squareRoot()) < 1e-14 && abs(rule.nodes[1]) < 1e-15 && abs(rule.nodes[2] - 3.0.squareRoot()) < 1e-14)
        #expect(abs(rule.weights[0] - 1.0 / 6) < 1e-15 && abs(rule.weights[1] - 2.0 / 3) < 1e-15)
    }

    @Test func rejectsBadOrders() {
        #expect(throws: TrainingError.self) { try GaussHermiteRule(order: 0) }
        #expect(throws: TrainingError.self) { try GaussHermiteRule(order: 1000) }
    }
}

@Suite struct LossLandscapeTests {
    /// 100 ms of turn-off: a few spikes, so the loss is steep but smooth in I, and cheap in debug.
    static func task() throws -> TrainingTask<MorrisLecar, Leapfrog, MeanActivityLoss> {
        try TurnOffTask.make(horizon: 100)
    }

    /// The Gauss–Hermite smoothed loss and its slope against plain Monte-Carlo averages of
    /// L(I + σε) and of (L(I + σε) − L(I))ε/σ over 800 seeded draws: within 4 standard errors.
    @Test func smoothedLossMatchesMonteCarlo() throws {
        let task = try Self.task()
        let sigma = 2.0
        let landscape = try LossLandscape(values: [92, 99], sigma: sigma, nodes: 32, methods: [])
        let points = try landscape.scan(task, along: 0, at: [100]).points
        for point in points {
            let draws = 800
            let results = ProbeResults(count: draws)
            DispatchQueue.concurrentPerform(iterations: draws) { k in
                var generator = SeededGenerator(seed: 11, stream: UInt64(k))
                let value = point.value + sigma * generator.nextGaussian()
                results.store(k, Result { try task.evaluate(at: [value]) })
            }
            let samples = try (0..<draws).map { try results.value($0).get() }
            // Stein's identity: L_σ′(u) = E[(L(u + σε) − L(u)) ε] / σ, draw by draw.
            let slopes = samples.indices.map { k in
                var generator = SeededGenerator(seed: 11, stream: UInt64(k))
                return (samples[k] - point.loss) * generator.nextGaussian() / sigma
            }
            let slopeMean = slopes.reduce(0, +) / Double(draws)
            let slopeError = (slopes.reduce(0) { $0 + ($1 - slopeMean) * ($1 - slopeMean) } / Double(draws - 1) / Double(draws)).squareRoot()
            #expect(abs(point.smoothedGradient - slopeMean) < 4 * slopeError,
                    "I = \(point.value): quadrature slope \(point.smoothedGradient), Monte Carlo \(slopeMean) ± \(slopeError)")
            let mean = samples.reduce(0, +) / Double(draws)
            let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws - 1)
            let standardError = (variance / Double(draws)).squareRoot()
            #expect(abs(point.smoothedLoss - mean) < 4 * standardError,
                    "I = \(point.value): quadrature \(point.smoothedLoss), Monte Carlo \(mean) ± \(standardError)")
            #expect(standardError > 0)
        }
    }

    /// Where the loss is smooth, BPTT's and FD's gradient columns equal central differences of the
    /// loss column (grid spacing 0.01: truncation error ~1e-4 · |L‴|). The scan is also bit-identical on one and on two threads.
    @Test func gradientColumnsAreDerivativesOfTheLossColumn() throws {
        let task = try Self.task()
        let values = [96.99, 97.0, 97.01]
        let methods: [any GradientMethod] = [BackpropagationThroughTime(), FiniteDifferences(threads: 1)]
        let parallel = try LossLandscape(values: values, sigma: 1, nodes: 24, methods: methods, threads: 2).scan(task, along: 0, at: [100]).points
        let serial = try LossLandscape(values: values, sigma: 1, nodes: 24, methods: methods, threads: 1).scan(task, along: 0, at: [100]).points
        let difference = (parallel[2].loss - parallel[0].loss) / 0.02
        #expect(abs(difference) > 1e-3, "the loss moves with I here: \(difference)")
        for column in 0..<2 {
            #expect(abs(parallel[1].gradients[column] - difference) <= 1e-3 * abs(difference), "method \(column): \(parallel[1].gradients[column]) vs \(difference)")
        }
        for (a, b) in zip(parallel, serial) {
            #expect(a.loss == b.loss && a.smoothedLoss == b.smoothedLoss && a.smoothedGradient == b.smoothedGradient && a.gradients == b.gradients)
        }
    }
}

@Suite struct ReversibilityTests {
    @Test func aRotationIsReversible() throws {
        let problem = try ODEProblem(system: Rotation(), timeSpan: (0, 20))
        let times = (1..<40).map { Double($0) / 2 }
        let outcome = try ReversibilityCheck.run(problem, integrator: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12), times: times)
        #expect(outcome.failure == nil)
        #expect(outcome.samples.count == 41 && outcome.samples.last?.time == 0 && outcome.samples.first?.time == 20)
        let worst = outcome.samples.map(\.distance).max()!
        #expect(worst < 1e-7, "\(worst)")
        // The forward samples are the rotation's exact solution (cos t, −sin t).
        for sample in outcome.samples {
            #expect(abs(sample.forward[0] - cos(sample.time)) < 1e-8 && abs(sample.forward[1] + sin(sample.time)) < 1e-8)
        }
    }

    /// SPEC claim 2: on Morris–Lecar the backward error is amplified by orders of magnitude
    /// (e-fold every 10–20 ms near the limit cycle): at rtol 1e-10 the state 200 ms back is off by
    /// more than 0.1 mV, over 10⁶ times the error one millisecond into the backward solve. The
    /// rotation, at the same tolerance, ends within 1e-7.
    @Test func morrisLecarIsNot() throws {
        let problem = try ODEProblem(system: MorrisLecar(preset: .hopf, current: 100), initialState: [-41.84, 0.5282], timeSpan: (0, 200))
        let outcome = try ReversibilityCheck.run(
            problem, integrator: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12), times: (1..<200).map(Double.init))
        #expect(outcome.failure == nil)
        let first = outcome.samples[1].distance, last = try #require(outcome.samples.last).distance
        #expect(outcome.samples.last?.time == 0)
        #expect(last > 0.1 && last > 1e6 * first, "after 1 ms \(first), after 200 ms \(last)")
    }

    /// ROBER's fast mode relaxes at rates near 10⁴ forward, so it explodes backward: the backward
    /// BDF solve either fails or ends far from y(0).
    @Test func roberIsNot() throws {
        let problem = try ODEProblem(system: Rober(), initialState: [1, 0, 0], timeSpan: (0, 100))
        let times = (0..<30).map { pow(10, -4 + 6 * Double($0) / 30) }
        let outcome = try ReversibilityCheck.run(problem, integrator: CVODE(method: .bdf, relativeTolerance: 1e-8, absoluteTolerances: [1e-12, 1e-16, 1e-12]), times: times)
        let worst = outcome.samples.map(\.distance).filter(\.isFinite).max() ?? 0
        #expect(outcome.failure != nil || worst > 1e-2, "failure \(String(describing: outcome.failure)), worst \(worst)")
    }
}

@Suite struct RunningGradientTests {
    /// The running gradient of both adjoints ends (at t₀) at the gradient they return, starts near
    /// 0 at T, and the two agree while the backsolve tracks the trajectory (20 ms of Morris–Lecar).
    @Test func runningGradientsEndAtTheGradient() throws {
        let integrator = DormandPrince(relativeTolerance: 1e-9, absoluteTolerance: 1e-11)
        let task = try TurnOffTask.make(horizon: 20, integrator: integrator)
        var results: [GradientEstimate] = []
        for variant in [AdjointMethod.Variant.full, .partial] {
            let method = AdjointMethod(variant: variant, backwardIntegrator: integrator, diagnosticPoints: 40, recordsRunningGradient: true)
            let estimate = try method.estimate(task, at: [100], iteration: 0)
            let samples = estimate.report.runningGradient
            #expect(samples.count == 40, "\(variant)")
            #expect(samples.last?.time == 0 && samples.last?.gradient == estimate.gradient)
            #expect(zip(samples, samples.dropFirst()).allSatisfy { $0.time > $1.time })
            #expect(variant == .full ? estimate.report.drift.count == 40 : estimate.report.drift.isEmpty)
            results.append(estimate)
        }
        let full = results[0].report.runningGradient, partial = results[1].report.runningGradient
        for (a, b) in zip(full, partial) {
            #expect(a.time == b.time)
            #expect(abs(a.gradient[0] - b.gradient[0]) <= 1e-5 * abs(results[1].gradient[0]) + 1e-12, "t = \(a.time)")
        }
        let plain = try AdjointMethod(variant: .partial, backwardIntegrator: integrator).estimate(task, at: [100], iteration: 0)
        #expect(plain.report.runningGradient.isEmpty)
        #expect(abs(plain.gradient[0] - results[1].gradient[0]) <= 1e-6 * abs(plain.gradient[0]))
    }
}
