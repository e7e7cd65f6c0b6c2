import Foundation
import Testing
import NeuroODE
@testable import Gradients

@Suite struct PlasticNetworkTests {
    /// A random rule of modest size, so the inner run stays bounded over short horizons.
    func randomRule(seed: UInt64, scale: Double = 0.2) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<27).map { _ in scale * generator.nextGaussian() }
    }

    func randomSamples(inputs: Int, count: Int, seed: UInt64) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        return (0..<(inputs * count)).map { _ in generator.nextGaussian() }
    }

    @Test func pullbackMatchesCentralDifferencesOfTheRightHandSide() throws {
        let n = 3
        let network = try PlasticRateNetwork(inputs: n, samples: randomSamples(inputs: n, count: 6, seed: 1), sampleInterval: 0.5)
        var generator = SeededGenerator(seed: 2)
        let w = (0..<n).map { _ in generator.nextGaussian() }
        let p = randomRule(seed: 3, scale: 1) + [0.7]
        let lambda = (0..<n).map { _ in generator.nextGaussian() }
        let t = 1.3  // inside the third segment
        func f(_ w: [Double], _ p: [Double]) -> [Double] {
            var out = [Double](repeating: 0, count: n)
            w.withUnsafeBufferPointer { ww in p.withUnsafeBufferPointer { pp in out.withUnsafeMutableBufferPointer { oo in
                network.evaluateRightHandSide(at: t, state: ww, parameters: pp, into: oo)
            } } }
            return out
        }
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        var wBar = [Double](repeating: 0.25, count: n), pBar = [Double](repeating: -0.5, count: 28)
        w.withUnsafeBufferPointer { ww in p.withUnsafeBufferPointer { pp in lambda.withUnsafeBufferPointer { ll in
            wBar.withUnsafeMutableBufferPointer { wb in pBar.withUnsafeMutableBufferPointer { pb in
                network.accumulatePullback(at: t, state: ww, parameters: pp, cotangent: ll, stateCotangent: wb, parameterCotangent: pb)
            } }
        } } }
        let h = 1e-6
        for j in 0..<n {
            var plus = w, minus = w
            plus[j] += h; minus[j] -= h
            let reference = (dot(lambda, f(plus, p)) - dot(lambda, f(minus, p))) / (2 * h)
            #expect(abs(wBar[j] - 0.25 - reference) < 1e-7 * max(1, abs(reference)), "w\(j)")
        }
        for k in 0..<28 {
            var plus = p, minus = p
            plus[k] += h; minus[k] -= h
            let reference = (dot(lambda, f(w, plus)) - dot(lambda, f(w, minus))) / (2 * h)
            #expect(abs(pBar[k] + 0.5 - reference) < 1e-7 * max(1, abs(reference)), "\(network.parameterNames[k])")
        }
    }

    @Test func inputInterpolatesTheSamplesAndHoldsTheLast() throws {
        let network = try PlasticRateNetwork(inputs: 1, samples: [0, 2, -2], sampleInterval: 0.5)
        // Rule dw/dt = x (A_100 = 1, η = 1): f reads x(t) directly.
        let rule = (0..<27).map { $0 == 9 ? 1.0 : 0 }
        for (t, x) in [(0.0, 0.0), (0.25, 1.0), (0.5, 2.0), (0.75, 0.0), (1.0, -2.0), (3.0, -2.0), (-1.0, 0.0)] {
            var out = [0.0]
            [0.3].withUnsafeBufferPointer { w in (rule + [1]).withUnsafeBufferPointer { p in out.withUnsafeMutableBufferPointer { o in
                network.evaluateRightHandSide(at: t, state: w, parameters: p, into: o)
            } } }
            #expect(abs(out[0] - x) < 1e-15, "x(\(t))")
        }
    }

    @Test func invalidConstructionIsATypedError() {
        #expect(throws: ODEError.self) { try PlasticRateNetwork(inputs: 0, samples: [1, 2], sampleInterval: 1) }
        #expect(throws: ODEError.self) { try PlasticRateNetwork(inputs: 2, samples: [1, 2, 3], sampleInterval: 1) }
        #expect(throws: ODEError.self) { try PlasticRateNetwork(inputs: 1, samples: [1, 2], sampleInterval: 0) }
        #expect(throws: ODEError.self) { try PlasticRateNetwork(inputs: 1, samples: [1, .nan], sampleInterval: 1) }
        #expect(throws: ODEError.self) { try PlasticRateNetwork(inputs: 1, samples: [1, 2], sampleInterval: 1, rule: [1]) }
        #expect(throws: ODEError.self) { try OjaTraining(configuration: { var c = OjaTraining.Configuration.small; c.inputs = 1; return c }()) }
        #expect(throws: ODEError.self) { try OjaTraining(configuration: { var c = OjaTraining.Configuration.small; c.eta = -1; return c }()) }
    }

    /// Oja's rule on inputs with covariance Σ converges to ± the unit first principal component.
    /// Σ and its eigenvector are NumPy's (`numpy.linalg.eigh`, `cholesky`), independent of the code.
    @Test func ojasRuleFindsTheUnitFirstPrincipalComponent() throws {
        let cholesky: [Double] = [
            1.73205081, 0, 0,
            0.57735027, 1.29099445, 0,
            0.28867513, 0.10327956, 0.95184032,
        ]
        let pc1 = [0.83240379, 0.51365919, 0.20798597]  // eigenvalue 3.742 (others 1.382, 0.876)
        let count = 20_000
        var generator = SeededGenerator(seed: 5)
        var samples = [Double](repeating: 0, count: 3 * count)
        for k in 0..<count {
            let xi = (0..<3).map { _ in generator.nextGaussian() }
            for i in 0..<3 { samples[3 * k + i] = (0...i).reduce(0) { $0 + cholesky[3 * i + $1] * xi[$1] } }
        }
        let network = try PlasticRateNetwork(inputs: 3, samples: samples, sampleInterval: 1, eta: 0.002)
        for start in [[0.1, -0.3, 0.2], [-0.4, 0.1, 0.9]] {
            let problem = try ODEProblem(system: network, initialState: start, timeSpan: (0, network.duration))
            let w = try DormandPrince.fixedStep(1).solve(problem, output: .finalState).states
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let cosine = zip(w, pc1).reduce(0) { $0 + $1.0 * $1.1 } / norm
            // The sample second moment of 20 000 points has a PC1 within ~1e-2 of Σ's; Oja's
            // stationary fluctuation at η = 0.002 is of the same order.
            #expect(abs(cosine) > 0.999, "cos = \(cosine), w = \(w)")
            #expect(abs(norm - 1) < 0.03, "‖w‖ = \(norm)")
        }
    }

    @Test func gradientThroughTheLearningProcessMatchesFiniteDifferences() throws {
        var configuration = OjaTraining.Configuration.small
        configuration.inputs = 3
        configuration.sampleCount = 60
        configuration.eta = 0.1
        let problem = try OjaTraining(configuration: configuration)
        let task = try problem.task(iteration: 2, seed: 7)
        for theta in [randomRule(seed: 11), PlasticRateNetwork.ojaRule.map { $0 + 0.05 }] {
            let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
            let reference = try FiniteDifferences(step: 1e-6).estimate(task, at: theta)
            #expect(abs(bptt.loss - reference.loss) <= 1e-14 * max(1, abs(reference.loss)))
            let largest = reference.gradient.map(abs).max()!
            #expect(largest > 1e-3)
            for k in 0..<27 {
                let scale = max(abs(reference.gradient[k]), 1e-3 * largest)
                #expect(abs(bptt.gradient[k] - reference.gradient[k]) <= 1e-6 * scale,
                        "\(problem.parameterNames[k]): bptt \(bptt.gradient[k]) fd \(reference.gradient[k])")
            }
        }
        // The continuous adjoint differentiates the ODE, not the fixed-step map: compare it with
        // finite differences of an accurate adaptive solve (steps ≤ Δt/2, so no step straddles
        // more than one kink of the interpolated input). Both sides carry their solvers' error
        // (measured: agreement to 5e-5 of the largest entry), so the bar is 1e-4.
        let accurate = try TrainingTask(
            name: "oja", system: task.system, initialState: task.initialState, timeSpan: task.timeSpan,
            integrator: DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-13, maxStepSize: 0.5), loss: task.loss,
            trainingIndices: Array(0..<27))
        let theta = randomRule(seed: 11)
        let reference = try FiniteDifferences(step: 1e-5).estimate(accurate, at: theta)
        let largest = reference.gradient.map(abs).max()!
        for variant in AdjointMethod.Variant.allCases {
            let adjoint = try AdjointMethod(
                variant: variant, backwardIntegrator: DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12, maxStepSize: 0.5)
            ).estimate(accurate, at: theta, iteration: 0)
            for k in 0..<27 {
                #expect(abs(adjoint.gradient[k] - reference.gradient[k]) <= 1e-4 * largest,
                        "\(variant) adjoint \(problem.parameterNames[k]): \(adjoint.gradient[k]) fd \(reference.gradient[k])")
            }
        }
    }

    @Test func metaLossGradientAndMinimum() {
        let u = [0.6, 0.8, 0]
        let loss = PrincipalComponentLoss(component: u, time: 1)
        #expect(abs(loss.value(integrals: [], observations: u, parameters: [])) < 1e-15)
        #expect(abs(loss.value(integrals: [], observations: u.map { -$0 }, parameters: [])) < 1e-15)
        // Orthogonal unit vector: 1 − 0 + 0; half-length along u: 0 + 0.25.
        #expect(abs(loss.value(integrals: [], observations: [0, 0, 1], parameters: []) - 1) < 1e-15)
        #expect(abs(loss.value(integrals: [], observations: [0.3, 0.4, 0], parameters: []) - 0.25) < 1e-15)
        let w = [0.3, -0.2, 0.5]
        let gradient = loss.valueAndGradient(integrals: [], observations: w, parameters: []).observations
        for i in 0..<3 {
            var plus = w, minus = w
            plus[i] += 1e-6; minus[i] -= 1e-6
            let reference = (loss.value(integrals: [], observations: plus, parameters: [])
                - loss.value(integrals: [], observations: minus, parameters: [])) / 2e-6
            #expect(abs(gradient[i] - reference) < 1e-8)
        }
    }

    @Test func distanceToOjaRespectsTheFamilysSymmetries() {
        let oja = PlasticRateNetwork.ojaRule
        #expect(OjaTraining.distanceToOja(oja) == 0)
        #expect(OjaTraining.distanceToOja(oja.map { 3 * $0 }) < 1e-15)
        #expect(OjaTraining.distanceToOja(oja.map { -$0 }) == 1)
        #expect(OjaTraining.distanceToOja([Double](repeating: 0, count: 27)) == 1)
        // Oja plus A_000 = 1: cos = 2/√(2·3), distance √(1 − 2/3).
        var shifted = oja
        shifted[0] = 1
        #expect(abs(OjaTraining.distanceToOja(shifted) - (1.0 / 3).squareRoot()) < 1e-15)
        // A rule flipped by x → −x (A_abc → (−1)^(a+b) A_abc) is the same rule in distribution.
        var rule = oja
        rule[9] = 0.3  // + A_100
        var flipped = rule
        for index in 0..<27 where (index / 9 + index / 3 % 3) % 2 == 1 { flipped[index] = -rule[index] }
        #expect(abs(OjaTraining.distanceToOja(flipped) - OjaTraining.distanceToOja(rule)) < 1e-15)
    }

    @Test func ojaTaskCovarianceHasTheStatedPrincipalComponent() throws {
        let problem = try OjaTraining(configuration: { var c = OjaTraining.Configuration.small; c.inputs = 6; return c }())
        let decomposition = try SymmetricEigendecomposition(symmetric: problem.covariance, dimension: 6)
        for (value, expected) in zip(decomposition.eigenvalues.reversed(), OjaTraining.spectrum(dimension: 6)) {
            #expect(abs(value - expected) < 1e-12)
        }
        let top = Array(decomposition.eigenvectors[30..<36])
        let overlap = zip(top, problem.principalComponent).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(abs(overlap) - 1) < 1e-12)
        // The meta-loss at Oja's rule is far below its value at the origin (no learning).
        let task = try problem.task(iteration: 0, seed: 0)
        let atOja = try task.loss(at: PlasticRateNetwork.ojaRule)
        let atOrigin = try task.loss(at: [Double](repeating: 0, count: 27))
        #expect(atOja < 0.05, "meta-loss at Oja's rule \(atOja)")
        #expect(atOrigin > 0.5)
    }
}
