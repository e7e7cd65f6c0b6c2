import Foundation
import Testing
@testable import Gradients
@testable import NeuroODE

/// SPEC's ROBER fit: the data against SciPy, the adjoint through CVODES against finite
/// differences, and what the output scaling does to the loss.
@Suite struct RoberFitTaskTests {
    struct Reference: Decodable {
        let times: [Double]
        let states: [[Double]]
        let speciesMaximum: [Double]
        let radauBDFRelativeSpread: [Double]
    }

    /// Validation/rober_fit_data.py's output, read from the source tree (this test target has no
    /// resource bundle).
    static func reference() throws -> Reference {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../NeuroODETests/References/rober_fit_data.json").standardized
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// CVODE BDF at rtol 1e-10 against SciPy's Radau at rtol 1e-10 (whose own Radau-vs-BDF spread
    /// is below 6e-10 of each species' maximum): RELIABILITY's bar for tight solves, 100 × rtol,
    /// relative to the species maximum (y₂ peaks at 3.6e-5, so its error is judged at that size).
    @Test func dataMatchSciPy() throws {
        let reference = try Self.reference()
        let task = try RoberFitTask()
        #expect(task.times.count == 50 && task.data.count == 150)
        for (k, t) in task.times.enumerated() { #expect(abs(t - reference.times[k]) <= 1e-15 * t) }
        #expect(task.times.first == 1e-5 && task.times.last == 1e5)
        for i in 0..<3 {
            #expect(abs(task.speciesScale[i] - reference.speciesMaximum[i]) <= 1e-8 * reference.speciesMaximum[i])
            #expect(reference.radauBDFRelativeSpread[i] < 1e-9)
        }
        for k in 0..<50 {
            for i in 0..<3 {
                let error = abs(task.data[3 * k + i] - reference.states[k][i]) / reference.speciesMaximum[i]
                #expect(error < 1e-8, "t = \(task.times[k]), y\(i + 1): \(task.data[3 * k + i]) vs \(reference.states[k][i])")
            }
        }
    }

    /// The adjoint through CVODES (AdjointMethod .partial on a CVODE task) against central
    /// differences of the loss, both with the forward solve at rtol 1e-10. The differences carry
    /// the solve's error divided by the step: at most about rtol·L/h ≈ 3e-6 in the worst case,
    /// far less in practice because the error is nearly the same at θ ± h. The bar is 1e-3 of the
    /// largest entry for every entry (the gradient spans six orders of magnitude across layers)
    /// and 1e-4 relative for the entries within a decade of the largest.
    @Test func adjointMatchesFiniteDifferences() throws {
        let fit = try RoberFitTask(integrator: CVODE(method: .bdf, relativeTolerance: 1e-10, absoluteTolerances: [1e-14, 1e-18, 1e-14]))
        let theta = fit.initialParameters(seed: 3)
        let task = try fit.task(at: theta)
        #expect(task.parameterCount == 188, "3·5+5 + 5·(5·5+5) + 5·3+3")
        let adjoint = try AdjointMethod(
            variant: .partial, backwardIntegrator: DormandPrince(),
            cvodesOptions: CVODESAdjoint.Options(integralAbsoluteTolerance: 1e-12, adjointAbsoluteTolerance: 1e-10, gradientAbsoluteTolerance: 1e-10))
            .estimate(task, at: theta, iteration: 0)
        #expect(adjoint.report.bytesStored > 0, "the CVODES path stores checkpoints")
        // Every layer's weights and biases: indices spread over the whole vector.
        let indices = Array(stride(from: 0, to: theta.count, by: 11)) + [theta.count - 1]
        let fd = try FiniteDifferences(step: 1e-5).estimate(task, at: theta, indices: indices)
        #expect(abs(adjoint.loss - fd.loss) <= 1e-8 * fd.loss)
        let largest = fd.gradient.map(abs).max()!
        #expect(largest > 1e-4)
        for (k, i) in indices.enumerated() {
            let difference = abs(adjoint.gradient[i] - fd.gradient[k])
            #expect(difference <= 1e-3 * largest, "\(fit.model.parameterNames[i]): adjoint \(adjoint.gradient[i]), fd \(fd.gradient[k])")
            if abs(fd.gradient[k]) > 0.1 * largest {
                #expect(difference <= 1e-4 * abs(fd.gradient[k]), "\(fit.model.parameterNames[i])")
            }
        }
    }

    /// The scaling multiplies the (linear) output layer's rows by sᵢ/10⁵, so the scaled loss at θ
    /// is the unscaled loss at θ with those rows rescaled by hand — and at the same θ the unscaled
    /// model, whose species move at rates of order one over 10⁵ time units, is off by orders of
    /// magnitude.
    @Test func scalingIsAnOutputLayerRescaling() throws {
        let on = try RoberFitTask(scaled: true), off = try RoberFitTask(scaled: false)
        let theta = on.initialParameters(seed: 3)
        #expect(on.initialParameters(seed: 3) == off.initialParameters(seed: 3))
        var rescaled = theta
        let last = RoberFitTask.layerSizes.count - 1
        for (index, name) in on.model.parameterNames.enumerated() where name.hasPrefix("W\(last)[") || name.hasPrefix("b\(last)[") {
            let row = Int(name.split(separator: "[")[1].prefix(1))!
            rescaled[index] *= on.speciesScale[row] / 1e5
        }
        let scaledLoss = try on.task(at: theta).loss(at: theta)
        let equivalent = try off.task(at: rescaled).loss(at: rescaled)
        #expect(abs(scaledLoss - equivalent) <= 1e-5 * scaledLoss, "\(scaledLoss) vs \(equivalent)")
        #expect(scaledLoss > 0.01 && scaledLoss < 10, "an untrained scaled model is off by about one species maximum: \(scaledLoss)")
        let unscaled = try? off.task(at: theta).loss(at: theta)
        #expect(unscaled.map { $0 > 1e3 * scaledLoss } ?? true, "unscaled: \(String(describing: unscaled))")
    }

    @Test func trajectoryForPlotsMatchesTheLossObservations() throws {
        let fit = try RoberFitTask()
        let theta = fit.initialParameters(seed: 1)
        let solution = try fit.trajectory(at: theta)
        var mae = 0.0
        for k in 0..<50 { for i in 0..<3 { mae += abs(solution.states[3 * k + i] - fit.data[3 * k + i]) / fit.speciesScale[i] } }
        #expect(abs(mae / 150 - (try fit.task(at: theta).loss(at: theta))) <= 1e-12)
        let dense = try fit.trajectory(at: theta, times: [1, 10, 100])
        #expect(dense.times == [1, 10, 100])
    }
}
