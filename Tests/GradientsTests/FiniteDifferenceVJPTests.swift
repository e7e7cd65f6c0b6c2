import Foundation
import Testing
import NeuroODE
@testable import Gradients

/// The finite-difference fallback for models without pullbacks, checked against the hand-derived
/// pullback of FitzHugh–Nagumo (CustomModelTestSystems.swift) and against the same gradient methods
/// run with exact (hand-written and autodiff) vector–Jacobian products.
@Suite struct FiniteDifferenceVJPTests {
    static let points: [(y: [Double], lambda: [Double])] = [
        ([-1.0, 1.0], [1.0, 0.0]), ([1.7, -0.3], [0.4, -2.5]), ([0.2, 0.9], [-3.0, 1.5]), ([120.0, -40.0], [1.0, 1.0]),
    ]

    func pullback<S: VectorJacobianProviding>(_ system: S, y: [Double], p: [Double], lambda: [Double]) throws -> [Double] {
        // Start from non-zero cotangents: the pullback must add, not overwrite.
        var stateBar = [Double](repeating: 0.25, count: y.count), parameterBar = [Double](repeating: -0.5, count: p.count)
        try y.withUnsafeBufferPointer { yb in
            try p.withUnsafeBufferPointer { pb in
                try lambda.withUnsafeBufferPointer { lb in
                    try stateBar.withUnsafeMutableBufferPointer { sb in
                        try parameterBar.withUnsafeMutableBufferPointer { qb in
                            try system.accumulatePullback(at: 0.3, state: yb, parameters: pb, cotangent: lb, stateCotangent: sb, parameterCotangent: qb)
                        }
                    }
                }
            }
        }
        return stateBar + parameterBar
    }

    /// ε^{1/3} ≈ 6·10⁻⁶ balances truncation and rounding: each entry within ~1e-9 relative.
    @Test func wrapperPullbackMatchesHandDerivedPullback() throws {
        let p = FitzHughNagumoEquations.parameters
        for point in Self.points {
            let exact = try pullback(HandVJPFitzHughNagumo(), y: point.y, p: p, lambda: point.lambda)
            let approximate = try pullback(FiniteDifferenceVJPSystem(base: PlainFitzHughNagumo()), y: point.y, p: p, lambda: point.lambda)
            let scale = exact.map(abs).max()!
            for (a, b) in zip(approximate, exact) {
                #expect(abs(a - b) <= 1e-9 * scale, "y = \(point.y): fd \(a), exact \(b)")
            }
        }
    }

    /// With a Jacobian the state part is exact (λᵀJ); only the parameter part is differenced.
    @Test func jacobianSuppliesTheStatePartExactly() throws {
        let p = FitzHughNagumoEquations.parameters
        for point in Self.points {
            let exact = try pullback(HandVJPFitzHughNagumo(), y: point.y, p: p, lambda: point.lambda)
            let viaJacobian = try pullback(FiniteDifferenceVJPSystem(base: JacobianFitzHughNagumo()), y: point.y, p: p, lambda: point.lambda)
            for i in 0..<2 { #expect(abs(viaJacobian[i] - exact[i]) <= 1e-15 * max(1, abs(exact[i]))) }
            let scale = exact.map(abs).max()!
            for i in 2..<6 { #expect(abs(viaJacobian[i] - exact[i]) <= 1e-9 * scale) }
        }
        #expect(FiniteDifferenceVJPSystem(base: JacobianFitzHughNagumo()) is any JacobianProviding, "CVODE keeps the Jacobian")
        #expect(!(FiniteDifferenceVJPSystem(base: PlainFitzHughNagumo()) is any JacobianProviding))
    }

    /// The scratch is sized once for the model: a parameter vector of another length is refused.
    @Test func mismatchedParameterCountIsRefused() throws {
        let error = try #require(throws: ODEError.self) {
            try pullback(FiniteDifferenceVJPSystem(base: PlainFitzHughNagumo()), y: [0, 0], p: [0.7, 0.8, 12.5, 0.5, 1], lambda: [1, 1])
        }
        #expect(error == .dimensionMismatch(what: "state and parameters pulled back through fhn-plain", expected: 6, actual: 7))
    }

    @Test func stepIsRelativeWithAFloorAndExactlyRepresentable() {
        let relative = FiniteDifferenceVJPSystem<PlainFitzHughNagumo>.relativeStep
        #expect(abs(relative - 6.055454e-6) < 1e-11)
        for x in [0.0, 1e-3, -0.7, 12.5, -65.0, 1e4] {
            let h = FiniteDifferenceVJPSystem<PlainFitzHughNagumo>.step(for: x)
            #expect(abs(h - relative * max(1, abs(x))) <= 1e-6 * h, "x = \(x)")
            #expect((x + h) - x == h, "x ± h exact at x = \(x)")
        }
    }

    func fitTask<S: ODESystem, M: Integrator>(_ system: S, integrator: M) throws -> TrainingTask<S, M, TrajectoryMatchingLoss> {
        let times = [2.0, 4.5, 7.0, 10.0]
        let targets: [Double] = [-1.2, 0.4, 1.1, -0.6, 1.9, 0.2, 0.3, 0.9]
        return try TrainingTask(
            name: "fhn", system: system, timeSpan: (0, 10), integrator: integrator,
            loss: TrajectoryMatchingLoss(times: times, targets: targets, dimension: 2, metric: .meanSquared),
            training: FitzHughNagumoEquations.parameterNames)
    }

    func expectClose(_ a: [Double], _ b: [Double], relative tolerance: Double, _ label: String) {
        let scale = b.map(abs).max()!
        for (k, (x, y)) in zip(a, b).enumerated() {
            #expect(abs(x - y) <= tolerance * max(abs(y), 1e-3 * scale), "\(label) θ[\(k)]: \(x) vs \(y)")
        }
    }

    /// The brief's bar: the fallback's BPTT gradient within 1e-6 relative of BPTT with exact VJPs.
    @Test func bpttFallbackMatchesExactPullbacks() throws {
        let dopri = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)
        let theta = FitzHughNagumoEquations.parameters
        let fallback = try BackpropagationThroughTime().estimate(fitTask(PlainFitzHughNagumo(), integrator: dopri), at: theta, iteration: 0)
        let hand = try BackpropagationThroughTime().estimate(fitTask(HandVJPFitzHughNagumo(), integrator: dopri), at: theta, iteration: 0)
        let autodiff = try BackpropagationThroughTime().estimate(fitTask(AutodiffFitzHughNagumo(), integrator: dopri), at: theta, iteration: 0)
        #expect(fallback.loss == hand.loss, "same forward pass")
        expectClose(autodiff.gradient, hand.gradient, relative: 1e-12, "autodiff vs hand")
        expectClose(fallback.gradient, hand.gradient, relative: 1e-6, "finite-difference VJPs vs hand")
    }

    /// The running cost goes through the quadrature state, built around the wrapped system.
    @Test func bpttFallbackWithRunningCost() throws {
        let dopri = DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)
        func task<S: ODESystem>(_ system: S) throws -> TrainingTask<S, DormandPrince, StateIntegralLoss> {
            try TrainingTask(name: "fhn-integral", system: system, timeSpan: (0, 8), integrator: dopri,
                             loss: StateIntegralLoss(weights: [1, -0.5]), training: ["a", "tau", "I"])
        }
        let theta = [0.7, 12.5, 0.5]
        let fallback = try BackpropagationThroughTime().estimate(task(PlainFitzHughNagumo()), at: theta, iteration: 0)
        let hand = try BackpropagationThroughTime().estimate(task(HandVJPFitzHughNagumo()), at: theta, iteration: 0)
        expectClose(fallback.gradient, hand.gradient, relative: 1e-6, "running cost")
    }

    @Test(arguments: AdjointMethod.Variant.allCases)
    func adjointFallbackMatchesExactPullbacks(variant: AdjointMethod.Variant) throws {
        let dopri = DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
        let method = AdjointMethod(variant: variant, backwardIntegrator: dopri)
        let theta = FitzHughNagumoEquations.parameters
        let fallback = try method.estimate(fitTask(PlainFitzHughNagumo(), integrator: dopri), at: theta, iteration: 0)
        let hand = try method.estimate(fitTask(HandVJPFitzHughNagumo(), integrator: dopri), at: theta, iteration: 0)
        expectClose(fallback.gradient, hand.gradient, relative: 1e-6, "\(variant) adjoint")
    }

    /// The CVODES partial adjoint through the wrapper (which also keeps a base Jacobian for CVODE).
    @Test func cvodesAdjointFallbackMatchesExactPullbacks() throws {
        let cvode = CVODE(method: .bdf, relativeTolerance: 1e-10, absoluteTolerance: 1e-12)
        let method = AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince())
        let theta = FitzHughNagumoEquations.parameters
        let hand = try method.estimate(fitTask(HandVJPFitzHughNagumo(), integrator: cvode), at: theta, iteration: 0)
        for fallback in [try method.estimate(fitTask(PlainFitzHughNagumo(), integrator: cvode), at: theta, iteration: 0),
                         try method.estimate(fitTask(JacobianFitzHughNagumo(), integrator: cvode), at: theta, iteration: 0)] {
            expectClose(fallback.gradient, hand.gradient, relative: 1e-6, "cvodes adjoint")
        }
    }

    /// y' = −k·y with a parameter the equations never read: its gradient is exactly zero, because
    /// f(θ + h) and f(θ − h) are bit-identical.
    struct UnusedParameterDecay: ODESystem {
        var name: String { "decay-with-unused" }
        var dimension: Int { 1 }
        var parameterNames: [String] { ["k", "unused"] }
        var defaultParameters: [Double] { [0.3, 2.0] }
        var defaultInitialState: [Double] { [1.0] }
        func evaluateRightHandSide(
            at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
            into derivative: UnsafeMutableBufferPointer<Double>
        ) throws {
            derivative[0] = -parameters[0] * state[0]
        }
    }

    @Test func unusedParameterHasExactlyZeroGradient() throws {
        let task = try TrainingTask(
            name: "decay", system: UnusedParameterDecay(), timeSpan: (0, 2), integrator: DormandPrince(relativeTolerance: 1e-10),
            loss: TrajectoryMatchingLoss(times: [2], targets: [0], dimension: 1, metric: .meanSquared), training: ["k", "unused"])
        let estimate = try BackpropagationThroughTime().estimate(task, at: [0.3, 2.0], iteration: 0)
        #expect(estimate.gradient[1] == 0)
        // L = y(2)² = e^{−4k}, dL/dk = −4·e^{−4k}: the discrete map's gradient at rtol 1e-10.
        #expect(abs(estimate.gradient[0] + 4 * exp(-1.2)) <= 1e-7)
    }

    struct WarningProbe: ODESystem {
        var name: String { "warning-probe" }
        var dimension: Int { 1 }
        var parameterNames: [String] { ["k"] }
        var defaultParameters: [Double] { [1] }
        var defaultInitialState: [Double] { [1] }
        func evaluateRightHandSide(
            at t: Double, state: UnsafeBufferPointer<Double>, parameters: UnsafeBufferPointer<Double>,
            into derivative: UnsafeMutableBufferPointer<Double>
        ) throws {
            derivative[0] = -parameters[0] * state[0]
        }
    }

    /// The gradient methods warn through `emitOnce`; after one BPTT run on a type it stays silent.
    @Test func warningIsPrintedOncePerModelType() throws {
        let task = try TrainingTask(
            name: "probe", system: WarningProbe(), timeSpan: (0, 1), integrator: DormandPrince(),
            loss: TrajectoryMatchingLoss(times: [1], targets: [0], dimension: 1), training: ["k"])
        _ = try BackpropagationThroughTime().estimate(task, at: [1], iteration: 0)
        _ = try BackpropagationThroughTime().estimate(task, at: [1], iteration: 1)
        #expect(!FiniteDifferenceVJPWarning.emitOnce(for: WarningProbe.self, modelName: "warning-probe", method: "bptt"),
                "already warned by the first estimate")
    }

    @Test func warningSaysWhatToAdd() {
        let plain = FiniteDifferenceVJPWarning.message(for: PlainFitzHughNagumo.self, modelName: "fhn-plain", method: "bptt")
        for phrase in ["fhn-plain", "PlainFitzHughNagumo", "bptt", "DifferentiableODESystem", "@differentiable(reverse)", "VectorJacobianProviding", "once"] {
            #expect(plain.contains(phrase), "\(phrase)")
        }
        let jacobian = FiniteDifferenceVJPWarning.message(for: JacobianFitzHughNagumo.self, modelName: "fhn-jacobian", method: "adjoint-partial")
        #expect(jacobian.contains("∂f/∂θ"))
    }
}
