import Foundation
import Testing
@testable import NeuroODE
@testable import Gradients

/// ROBER with G = ∫y₃ dt appended as a fourth state: an independent path to G through plain CVODE.
struct RoberWithIntegral: JacobianProviding {
    var name: String { "rober+integral" }
    var dimension: Int { 4 }
    var parameterNames: [String] { Rober.parameterNames }
    var defaultParameters: [Double] { Rober().defaultParameters }
    var defaultInitialState: [Double] { [1, 0, 0, 0] }
    func evaluateRightHandSide(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>, into d: UnsafeMutableBufferPointer<Double>) {
        Rober().evaluateRightHandSide(at: t, state: UnsafeBufferPointer(rebasing: y[0..<3]), parameters: p, into: UnsafeMutableBufferPointer(rebasing: d[0..<3]))
        d[3] = y[2]
    }
    func evaluateJacobian(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>, into jac: UnsafeMutableBufferPointer<Double>) {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 9) { j3 in
            Rober().evaluateJacobian(at: t, state: UnsafeBufferPointer(rebasing: y[0..<3]), parameters: p, into: j3)
            jac.update(repeating: 0)
            for c in 0..<3 { for r in 0..<3 { jac[r + 4 * c] = j3[r + 3 * c] } }
            jac[3 + 4 * 2] = 1
        }
    }
}

/// ROBER whose pullback fails before t = 10 (throws, or returns NaN): a model failing inside the
/// backward pass.
struct RoberWithFailingPullback: JacobianProviding, VectorJacobianProviding {
    struct Failure: Error {}
    var throwing = true
    var name: String { "rober-failing-pullback" }
    var dimension: Int { 3 }
    var parameterNames: [String] { Rober.parameterNames }
    var defaultParameters: [Double] { Rober().defaultParameters }
    var defaultInitialState: [Double] { [1, 0, 0] }
    func evaluateRightHandSide(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>, into d: UnsafeMutableBufferPointer<Double>) {
        Rober().evaluateRightHandSide(at: t, state: y, parameters: p, into: d)
    }
    func evaluateJacobian(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>, into jac: UnsafeMutableBufferPointer<Double>) {
        Rober().evaluateJacobian(at: t, state: y, parameters: p, into: jac)
    }
    func accumulatePullback(at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
                            cotangent l: UnsafeBufferPointer<Double>, stateCotangent s: UnsafeMutableBufferPointer<Double>,
                            parameterCotangent g: UnsafeMutableBufferPointer<Double>) throws {
        if t < 10 && throwing { throw Failure() }
        Rober().accumulatePullback(at: t, state: y, parameters: p, cotangent: l, stateCotangent: s, parameterCotangent: g)
        if t < 10 { s[1] = .nan }
    }
}

/// The partial adjoint through CVODES' adjoint module, checked against SUNDIALS' own example
/// (`cvsRoberts_ASAi_dns`), against finite differences of independent tight CVODE solves, and
/// against the stored-trajectory adjoint under dopri5.
@Suite struct CVODESAdjointTests {
    static let y3Integrand = DifferentiableRunningIntegrand(
        integrand: RunningIntegrand(count: 1) { _, y, r in r[0] = y[2] },
        pullback: { _, _, rBar, yBar in yBar[2] += rBar[0] })

    /// The example's relative tolerance: RELIABILITY's bar for the continuous adjoint is 100 × rtol.
    static let exampleBar = 100 * 1e-6

    // Expected values copied from /usr/share/doc/libsundials-dev/examples/cvodes/serial/
    // cvsRoberts_ASAi_dns.out (SUNDIALS 6.4.1). The example orders the rates (p1, p2, p3) =
    // (k1, k3, k2) in SPEC naming; the gradients below are re-ordered to SPEC's (k1, k2, k3).
    // (Its quadrature integrand is +λᵀ∂f/∂p and it prints −q(t₀); ours integrates −λᵀ∂f/∂θ, so
    // q(t₀) is the gradient itself.)
    static let exampleG = 3.9983e+07
    static let exampleLambdaAt40 = [3.9967e+07, 3.9967e+07, 3.9967e+07]
    static let exampleStateAt40 = [7.1583e-01, 9.1855e-06, 2.8416e-01]
    static let exampleLambdaAt0 = [3.9967e+07, 3.9967e+07, 3.9967e+07]
    static let exampleGradient = [7.6842e+05, 5.1144e-04, -3.0691e+00]
    // Its second backward run, from tB0 = 50 (G = ∫₀⁵⁰ y₃ dt).
    static let exampleShortLambdaAt40 = [2.8959e-01, 1.7624e+00, 9.3567e+00]
    static let exampleShortLambdaAt0 = [8.4190e+00, 1.6097e+01, 1.6097e+01]
    static let exampleShortGradient = [1.7341e+02, 8.4321e-08, -5.0590e-04]

    /// G by ROBER with the integral appended as a state, solved by plain CVODE at rtol 1e-12.
    static func integral(horizon: Double, parameters: [Double] = Rober().defaultParameters) throws -> Double {
        let solver = CVODE(method: .bdf, relativeTolerance: 1e-12, absoluteTolerances: [1e-18, 1e-24, 1e-16, 1e-14])
        let problem = try ODEProblem(system: RoberWithIntegral(), parameters: parameters, timeSpan: (0, horizon))
        return try solver.solve(problem, output: .finalState).finalState[3]
    }

    /// Central differences of G with relative steps h·kᵢ: truncation O(h²) ≈ 1e-8, solver noise
    /// ≈ 1e-12 / h ≈ 1e-8 (the step was checked: 1e-3, 1e-4 and 1e-5 agree to better than 1e-6).
    static func finiteDifferenceGradient(horizon: Double, step: Double = 1e-4) throws -> [Double] {
        let k = Rober().defaultParameters
        return try (0..<3).map { i in
            var plus = k, minus = k
            plus[i] *= 1 + step
            minus[i] *= 1 - step
            return (try integral(horizon: horizon, parameters: plus) - integral(horizon: horizon, parameters: minus)) / (2 * step * k[i])
        }
    }

    static func relativeError(_ value: Double, _ reference: Double) -> Double {
        abs(value - reference) / abs(reference)
    }

    static func expectClose(_ values: [Double], _ references: [Double], within bar: Double, _ what: String) {
        #expect(values.count == references.count, "\(what)")
        for (i, (value, reference)) in zip(values, references).enumerated() {
            #expect(relativeError(value, reference) <= bar, "\(what)[\(i)]: \(value) vs \(reference)")
        }
    }

    /// Runs `body` with a fresh session ledger and checks that everything it created was freed.
    func withLeakCheck(_ body: () throws -> Void) rethrows {
        let ledger = CVODESession.Ledger()
        try CVODESession.$ledger.withValue(ledger) { try body() }
        #expect(ledger.live.load(ordering: .relaxed) == 0, "sessions still alive")
    }

    func roberPass(horizon: Double, options: CVODESAdjoint.Options = .init()) throws -> CVODESAdjointPass {
        let problem = try ODEProblem(system: Rober(), timeSpan: (0, horizon))
        return try CVODESAdjoint(integrator: RoberIntegralTask.integrator, options: options)
            .forward(problem, integrand: Self.y3Integrand)
    }

    // MARK: SUNDIALS' example

    @Test func reproducesTheExampleToFourTimesTenToTheSeven() throws {
        let pass = try roberPass(horizon: 4e7)
        let result = try pass.backward(integralCotangents: [1], reportTimes: [0, 40])
        #expect(Self.relativeError(pass.integrals[0], Self.exampleG) <= Self.exampleBar)
        #expect(result.samples.map(\.time) == [40, 0])
        Self.expectClose(result.samples[0].cotangent, Self.exampleLambdaAt40, within: Self.exampleBar, "λ(40)")
        Self.expectClose(result.samples[0].state, Self.exampleStateAt40, within: Self.exampleBar, "y(40)")
        Self.expectClose(result.samples[1].cotangent, Self.exampleLambdaAt0, within: Self.exampleBar, "λ(0) sample")
        #expect(result.samples[1].state == [1, 0, 0])
        Self.expectClose(result.initialCotangent, Self.exampleLambdaAt0, within: Self.exampleBar, "λ(0)")

        // The gradient: both the example's printed values and ours are within 100·rtol of the
        // truth (finite differences of rtol-1e-12 solves), so they are within 2·100·rtol of each
        // other. (The example's dG/dk2 is itself 1.0e-4 from the truth, ours 2e-5.)
        let truth = try Self.finiteDifferenceGradient(horizon: 4e7)
        Self.expectClose(result.parameterGradient, truth, within: Self.exampleBar, "dG/dk vs finite differences")
        Self.expectClose(Self.exampleGradient, truth, within: Self.exampleBar, "the example's dG/dk vs finite differences")
        Self.expectClose(result.parameterGradient, Self.exampleGradient, within: 2 * Self.exampleBar, "dG/dk vs the example")
        #expect(Self.relativeError(pass.integrals[0], try Self.integral(horizon: 4e7)) <= Self.exampleBar)

        // The example stores 5 checkpoints in 766 steps (150 steps apart).
        let statistics = result.statistics
        #expect(statistics.checkpoints == statistics.forward.steps / 150)
        #expect(abs(statistics.forward.steps - 766) <= 38, "\(statistics.forward.steps) forward steps")
        #expect(statistics.backward.steps > 0 && statistics.backwardQuadratureEvaluations > 0)
        // Checkpoints hold far less than the trajectory stored at every step (t, y, y').
        let trajectoryBytes = statistics.forward.steps * 7 * MemoryLayout<Double>.stride
        #expect(statistics.checkpointBytes > 0 && statistics.checkpointBytes < trajectoryBytes)
    }

    @Test func reproducesTheExampleSecondBackwardRunFromFifty() throws {
        let pass = try roberPass(horizon: 50)
        let result = try pass.backward(integralCotangents: [1], reportTimes: [40])
        Self.expectClose(result.samples[0].cotangent, Self.exampleShortLambdaAt40, within: Self.exampleBar, "λ(40)")
        Self.expectClose(result.samples[0].state, Self.exampleStateAt40, within: Self.exampleBar, "y(40)")
        Self.expectClose(result.initialCotangent, Self.exampleShortLambdaAt0, within: Self.exampleBar, "λ(0)")
        Self.expectClose(result.parameterGradient, Self.exampleShortGradient, within: Self.exampleBar, "dG/dk")
        Self.expectClose(result.parameterGradient, try Self.finiteDifferenceGradient(horizon: 50), within: Self.exampleBar, "dG/dk vs FD")
        #expect(Self.relativeError(pass.integrals[0], try Self.integral(horizon: 50)) <= Self.exampleBar)
        // A second backward pass on the same checkpoints repeats the first exactly.
        let again = try pass.backward(integralCotangents: [1], reportTimes: [40])
        #expect(again.parameterGradient == result.parameterGradient && again.initialCotangent == result.initialCotangent)
        // The seed scales the adjoint linearly.
        let doubled = try pass.backward(integralCotangents: [2])
        Self.expectClose(doubled.parameterGradient, result.parameterGradient.map { 2 * $0 }, within: Self.exampleBar, "2·dG/dk")
    }

    @Test func adjointMethodRunsThroughCVODESForACVODETask() throws {
        let task = try RoberIntegralTask.make()
        let theta = Rober().defaultParameters
        let estimate = try AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince()).estimate(task, at: theta, iteration: 0)
        let direct = try roberPass(horizon: 4e7).backward(integralCotangents: [1])
        #expect(estimate.loss == (try roberPass(horizon: 4e7)).integrals[0])
        #expect(estimate.gradient == direct.parameterGradient)
        #expect(Self.relativeError(estimate.loss, Self.exampleG) <= Self.exampleBar)
        #expect(estimate.report.bytesStored == direct.statistics.checkpointBytes)
        #expect(estimate.report.forwardSolves == 1 && estimate.report.vectorJacobianProducts > 0)
        #expect(task.parameterNames == ["k1", "k2", "k3"])
    }

    // MARK: Independent references

    @Test func matchesFiniteDifferencesAtTightTolerances() throws {
        let horizon = 1000.0, rtol = 1e-9
        let k = Rober().defaultParameters
        let adjoint = CVODESAdjoint(
            integrator: CVODE(method: .bdf, relativeTolerance: rtol, absoluteTolerances: [1e-15, 1e-21, 1e-13]),
            options: .init(checkpointInterval: 100, integralAbsoluteTolerance: 1e-12, adjointAbsoluteTolerance: 1e-12,
                           gradientAbsoluteTolerances: k.map { 1e-12 / $0 }))
        let pass = try adjoint.forward(try ODEProblem(system: Rober(), timeSpan: (0, horizon)), integrand: Self.y3Integrand)
        let result = try pass.backward(integralCotangents: [1])
        Self.expectClose(result.parameterGradient, try Self.finiteDifferenceGradient(horizon: horizon), within: 100 * rtol, "dG/dk")
        #expect(Self.relativeError(pass.integrals[0], try Self.integral(horizon: horizon)) <= 100 * rtol)
    }

    @Test func agreesWithTheStoredTrajectoryAdjointUnderDopri5() throws {
        // On [0, 1] ROBER is only mildly stiff: dopri5 gets through in a few hundred steps.
        let rtol = 1e-9
        let cvodeTask = try RoberIntegralTask.make(
            horizon: 1, integrator: CVODE(method: .bdf, relativeTolerance: rtol, absoluteTolerances: [1e-15, 1e-21, 1e-13]))
        let dopri = DormandPrince(relativeTolerance: 1e-11, absoluteTolerance: 1e-16)
        let dopriTask = try TrainingTask(
            name: "rober-integral-dopri5", system: Rober(), timeSpan: (0, 1), integrator: dopri,
            loss: StateIntegralLoss(weights: [0, 0, 1]), training: Rober.parameterNames)
        let theta = Rober().defaultParameters
        let cvodes = try AdjointMethod(
            variant: .partial, backwardIntegrator: dopri,
            cvodesOptions: .init(integralAbsoluteTolerance: 1e-14, adjointAbsoluteTolerance: 1e-12,
                                 gradientAbsoluteTolerances: theta.map { 1e-14 / $0 }))
            .estimate(cvodeTask, at: theta, iteration: 0)
        let stored = try AdjointMethod(variant: .partial, backwardIntegrator: dopri).estimate(dopriTask, at: theta, iteration: 0)
        Self.expectClose(cvodes.gradient, stored.gradient, within: 100 * rtol, "CVODES vs stored-trajectory dopri5")
    }

    @Test func observationJumpsMatchFiniteDifferencesAndTheStoredTrajectoryAdjoint() throws {
        // Observations split the backward run (jump, CVodeReInitB); one sits at T and one at t₀.
        // LinearFlow provides no Jacobian: the backward Newton matrix comes from difference quotients.
        let times = [0, 0.5, 1, 2, 3.0]
        let targets = [1.0, 0.5, 0.2, 0.1, -0.3, 0.4, 0.0, 0.0, 0.3, -0.2]
        let loss = TrajectoryMatchingLoss(times: times, targets: targets, dimension: 2, metric: .meanSquared)
        let names = ["a", "b", "c", "d"]
        let theta = LinearFlow().defaultParameters
        let rtol = 1e-9
        func cvodeTask(_ method: CVODE.Method, _ rtol: Double, _ atol: Double) throws -> TrainingTask<LinearFlow, CVODE, TrajectoryMatchingLoss> {
            try TrainingTask(
                name: "linear-cvode", system: LinearFlow(), timeSpan: (0, 3),
                integrator: CVODE(method: method, relativeTolerance: rtol, absoluteTolerance: atol), loss: loss, training: names)
        }
        // Reference: central differences (h = 1e-5) of plain CVODE solves at rtol 1e-13.
        let reference = try FiniteDifferences(step: 1e-5).estimate(cvodeTask(.bdf, 1e-13, 1e-15), at: theta, iteration: 0)
        let dopri = DormandPrince(relativeTolerance: 1e-12, absoluteTolerance: 1e-13)
        let dopriTask = try TrainingTask(name: "linear-dopri5", system: LinearFlow(), timeSpan: (0, 3), integrator: dopri, loss: loss, training: names)
        let stored = try AdjointMethod(variant: .partial, backwardIntegrator: dopri).estimate(dopriTask, at: theta, iteration: 0)
        let options = CVODESAdjoint.Options(integralAbsoluteTolerance: 1e-12, adjointAbsoluteTolerance: 1e-12, gradientAbsoluteTolerance: 1e-12)
        // Errors scale with the gradient, not with each entry: b's entry is 40 times smaller than a's.
        let scale = reference.gradient.map(abs).max()!
        for method in [CVODE.Method.bdf, .adams] {
            let cvodes = try AdjointMethod(variant: .partial, backwardIntegrator: dopri, cvodesOptions: options)
                .estimate(cvodeTask(method, rtol, 1e-12), at: theta, iteration: 0)
            #expect(Self.relativeError(cvodes.loss, reference.loss) <= 100 * rtol)
            for k in theta.indices {
                #expect(abs(cvodes.gradient[k] - reference.gradient[k]) <= 100 * rtol * scale, "\(method) d/d\(names[k])")
                #expect(abs(cvodes.gradient[k] - stored.gradient[k]) <= 100 * rtol * scale, "\(method) vs dopri5 d/d\(names[k])")
            }
        }

        // λ(t₀) = dL/dy₀ against central differences of the loss in y₀ (dopri5 at tight tolerances).
        let task = try cvodeTask(.bdf, rtol, 1e-12)
        let pass = try CVODESAdjoint(integrator: task.integrator, options: options)
            .forward(try task.problem(at: theta), observationTimes: times)
        let seed = loss.valueAndGradient(integrals: [], observations: pass.observations, parameters: [])
        let adjoint = try pass.backward(observationCotangents: seed.observations)
        for i in 0..<2 {
            func lossAt(_ shift: Double) throws -> Double {
                var y0 = LinearFlow().defaultInitialState
                y0[i] += shift
                let task = try TrainingTask(name: "shifted", system: LinearFlow(), initialState: y0, timeSpan: (0, 3),
                                            integrator: dopri, loss: loss, training: names)
                return try task.loss(at: theta)
            }
            let h = 1e-5
            let reference = (try lossAt(h) - lossAt(-h)) / (2 * h)
            #expect(Self.relativeError(adjoint.initialCotangent[i], reference) <= 1e-6, "dL/dy0[\(i)]")
        }
    }

    // MARK: Failures

    @Test func badSettingsAreRejectedBeforeAnyCMemory() throws {
        let ledger = CVODESession.Ledger()
        let problem = try ODEProblem(system: Rober(), timeSpan: (0, 1))
        CVODESession.$ledger.withValue(ledger) {
            #expect(throws: ODEError.invalidTolerance(name: "relative tolerance", value: -1)) {
                try CVODESAdjoint(integrator: CVODE(relativeTolerance: -1)).forward(problem)
            }
            #expect(throws: ODEError.invalidTolerance(name: "checkpoint interval", value: 0)) {
                try CVODESAdjoint(integrator: CVODE(), options: .init(checkpointInterval: 0)).forward(problem)
            }
            #expect(throws: ODEError.invalidTolerance(name: "adjoint absolute tolerance", value: 0)) {
                try CVODESAdjoint(integrator: CVODE(), options: .init(adjointAbsoluteTolerance: 0)).forward(problem)
            }
            #expect(throws: ODEError.dimensionMismatch(what: "gradient absolute tolerance vector", expected: 3, actual: 2)) {
                try CVODESAdjoint(integrator: CVODE(), options: .init(gradientAbsoluteTolerances: [1, 1])).forward(problem)
            }
            #expect(throws: ODEError.invalidTimeSpan(start: 1, end: 0, reason: "the CVODES adjoint needs a forward span")) {
                try CVODESAdjoint(integrator: CVODE()).forward(try ODEProblem(system: Rober(), timeSpan: (1, 0)))
            }
            #expect(throws: ODEError.self) {
                try CVODESAdjoint(integrator: CVODE()).forward(problem, observationTimes: [0.5, 0.5])
            }
        }
        #expect(ledger.created.load(ordering: .relaxed) == 0)
    }

    @Test func forwardStepBudgetGivesATypedErrorAndLeaksNothing() throws {
        try withLeakCheck {
            let problem = try ODEProblem(system: Rober(), timeSpan: (0, 4e7))
            let adjoint = CVODESAdjoint(integrator: CVODE(relativeTolerance: 1e-6, absoluteTolerances: [1e-8, 1e-14, 1e-6], maxSteps: 100))
            do throws(ODEError) {
                _ = try adjoint.forward(problem, integrand: Self.y3Integrand)
                Issue.record("expected the step budget to run out")
            } catch {
                guard case let .stepBudgetExhausted(time, maxSteps) = error else { Issue.record("\(error)"); return }
                #expect(maxSteps == 100 && time > 0 && time < 4e7)
            }
            // Through the gradient method, the same error reaches the caller.
            let task = try RoberIntegralTask.make(integrator: CVODE(relativeTolerance: 1e-6, absoluteTolerances: [1e-8, 1e-14, 1e-6], maxSteps: 100))
            #expect(throws: ODEError.self) {
                try AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince()).estimate(task, at: Rober().defaultParameters, iteration: 0)
            }
        }
    }

    @Test func backwardStepBudgetGivesATypedErrorAndLeaksNothing() throws {
        try withLeakCheck {
            let pass = try roberPass(horizon: 4e7, options: .init(backwardMaxSteps: 20))
            do throws(ODEError) {
                _ = try pass.backward(integralCotangents: [1])
                Issue.record("expected the backward step budget to run out")
            } catch {
                guard case let .stepBudgetExhausted(time, maxSteps) = error else { Issue.record("\(error)"); return }
                #expect(maxSteps == 20 && time > 0 && time < 4e7)
            }
        }
    }

    @Test func aModelFailingInTheBackwardPassIsReportedWithItsTime() throws {
        try withLeakCheck {
            let problem = try ODEProblem(system: RoberWithFailingPullback(), timeSpan: (0, 100))
            let pass = try CVODESAdjoint(integrator: RoberIntegralTask.integrator).forward(problem, integrand: Self.y3Integrand)
            do throws(ODEError) {
                _ = try pass.backward(integralCotangents: [1])
                Issue.record("expected the pullback failure")
            } catch {
                guard case let .rightHandSideFailed(model, time, _) = error else { Issue.record("\(error)"); return }
                #expect(model == "rober-failing-pullback" && time < 10)
            }
        }
    }

    @Test func aNonFiniteAdjointIsReportedWithItsTime() throws {
        try withLeakCheck {
            let problem = try ODEProblem(system: RoberWithFailingPullback(throwing: false), timeSpan: (0, 100))
            let pass = try CVODESAdjoint(integrator: RoberIntegralTask.integrator).forward(problem, integrand: Self.y3Integrand)
            do throws(ODEError) {
                _ = try pass.backward(integralCotangents: [1])
                Issue.record("expected a non-finite adjoint")
            } catch {
                guard case let .nonFiniteState(time, _, _) = error else { Issue.record("\(error)"); return }
                #expect(time < 10)
            }
        }
    }

    @Test func badSeedsAreRejected() throws {
        try withLeakCheck {
            let pass = try roberPass(horizon: 1)
            #expect(throws: ODEError.dimensionMismatch(what: "integral cotangents", expected: 1, actual: 2)) {
                try pass.backward(integralCotangents: [1, 1])
            }
            #expect(throws: ODEError.dimensionMismatch(what: "observation cotangents", expected: 0, actual: 3)) {
                try pass.backward(integralCotangents: [1], observationCotangents: [1, 2, 3])
            }
            #expect(throws: ODEError.nonFiniteInitialState(index: 0, value: .infinity)) {
                try pass.backward(integralCotangents: [.infinity])
            }
            #expect(throws: ODEError.self) { try pass.backward(integralCotangents: [1], reportTimes: [2]) }
            // The pass is still usable after refused seeds.
            #expect(try pass.backward(integralCotangents: [1]).parameterGradient.allSatisfy(\.isFinite))
        }
    }
}
