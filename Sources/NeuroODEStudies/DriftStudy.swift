import Foundation
import Gradients
import NeuroODE

/// `drift`: on the turn-off task (Morris–Lecar hopf, from the I = 100 cycle state), how far the
/// full adjoint's backsolved state drifts from the forward trajectory along the horizon, and what
/// that does to its running gradient, next to the partial adjoint's (which reads the stored
/// trajectory and cannot drift). The settings with their defaults; ``validate()`` names a bad
/// one, ``run(writingTo:)`` writes drift.csv, drift.svg and drift-gradient.svg.
public struct DriftStudy: Sendable {
    /// Horizon τ, ms.
    public var horizon = 1000.0
    /// Injected current I, µA/cm².
    public var current = 100.0
    /// The forward integrator: dopri5 or leapfrog.
    public var integrator = "dopri5"
    /// The leapfrog's step, ms (nil: 0.1; leapfrog only).
    public var dtGiven: Double?
    /// Tolerances of dopri5, forward and backward.
    public var rtol = 1e-8
    public var atol = 1e-10
    /// Diagnostic times along the horizon.
    public var points = 1000
    /// Drift (mV) whose first crossing is reported.
    public var threshold = 1.0

    public init() {}

    /// The leapfrog's step, ms.
    public var dt: Double { dtGiven ?? 0.1 }

    /// Throws for the first setting out of its domain, naming its option.
    public func validate() throws(CommandLineError) {
        let dt = self.dt
        guard horizon.isFinite, horizon > 0 else {
            throw .invalidValue(option: "--horizon", value: "\(horizon)", reason: "the horizon (ms) must be finite and positive")
        }
        guard current.isFinite else { throw .invalidValue(option: "--current", value: "\(current)", reason: "must be finite") }
        guard integrator == "dopri5" || integrator == "leapfrog" else {
            throw .unknownName(kind: "integrator", name: integrator, choices: ["dopri5", "leapfrog"])
        }
        if dtGiven != nil, integrator != "leapfrog" {
            throw .inapplicable(option: "--dt", reason: "dopri5 chooses its own steps")
        }
        guard dt.isFinite, dt > 0, dt <= horizon else {
            throw .invalidValue(option: "--dt", value: "\(dt)", reason: "the step must be finite, positive and at most the horizon")
        }
        guard rtol.isFinite, rtol >= 1e-14, rtol < 1 else {
            throw .invalidValue(option: "--rtol", value: "\(rtol)", reason: "must be in [1e-14, 1)")
        }
        guard atol.isFinite, atol > 0 else { throw .invalidValue(option: "--atol", value: "\(atol)", reason: "must be finite and positive") }
        guard points >= 1 else { throw .invalidValue(option: "--points", value: "\(points)", reason: "need at least 1") }
        guard threshold.isFinite, threshold > 0 else {
            throw .invalidValue(option: "--threshold", value: "\(threshold)", reason: "must be finite and positive")
        }
    }

    /// Runs both adjoints (and, when the backsolve fails, the backward integration of y alone),
    /// writes the result set into `out` and returns what to print: the paths, then the findings.
    public func run(writingTo out: String) throws -> [String] {
        try validate()
        let dt = self.dt
        // Sizes and step counts before any work (README "Resource limits").
        if integrator == "leapfrog" {
            do {
                _ = try FixedStepCount.covering(span: horizon, stepSize: dt)
            } catch {
                throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "\(error)")
            }
        }
        var estimate = MemoryEstimate()
        RunEstimate.turnOff(&estimate, horizon: horizon, stepSize: integrator == "leapfrog" ? dt : 0.1, kinds: [.adjointPartial])
        estimate.add("the diagnostic rows", option: "--points", value: points, doubles: 40 * Double(points))
        try estimate.check(against: .machine, remedy: "make it smaller")
        var files = try DiagnosticFiles(directory: out)
        files.configuration = [
            "task": .string("turn-off"), "horizon": .number(horizon), "I": .number(current), "integrator": .string(integrator),
            "dt": .number(dt), "rtol": .number(rtol), "atol": .number(atol), "points": .integer(points), "threshold": .number(threshold),
            "precision": .string("f64"),
        ]

        let backward = DormandPrince(relativeTolerance: rtol, absoluteTolerance: atol)
        let run: (AdjointMethod) -> Result<GradientEstimate, any Error> = { method in
            Result {
                integrator == "leapfrog"
                    ? try method.estimate(TurnOffTask.make(horizon: horizon, integrator: Leapfrog(stepSize: dt)), at: [current], iteration: 0)
                    : try method.estimate(TurnOffTask.make(horizon: horizon, integrator: backward), at: [current], iteration: 0)
            }
        }
        // The drift is what this command shows, so the full adjoint runs past its tolerance; the
        // output then flags it as diverged.
        let full = run(AdjointMethod(
            variant: .full, backwardIntegrator: backward, diagnosticPoints: points, recordsRunningGradient: true, allowsDrift: true))
        let partial = run(AdjointMethod(variant: .partial, backwardIntegrator: backward, diagnosticPoints: points, recordsRunningGradient: true))
        // The partial adjoint reads the stored trajectory: its failure is a real error.
        let partialEstimate = try partial.get()

        let fullReport = (try? full.get())?.report
        var drift = Dictionary(fullReport?.drift.map { ($0.time, $0.distance) } ?? [], uniquingKeysWith: { a, _ in a })
        var fallback: ReversibilityCheck.Outcome?
        if fullReport == nil {
            // The backsolve's samples die with it; the same backward integration of y alone (dopri5
            // both ways) shows the drift up to where it diverges.
            let times = partialEstimate.report.runningGradient.map(\.time).filter { $0 > 0 && $0 < horizon }.reversed()
            let problem = try ODEProblem(
                system: MorrisLecar(preset: .hopf, current: current), initialState: [-41.84, 0.5282], timeSpan: (0, horizon))
            let outcome = try ReversibilityCheck.run(problem, integrator: backward, times: Array(times))
            for sample in outcome.samples { drift[sample.time] = sample.distance }
            fallback = outcome
        }
        let fullRunning = Dictionary(fullReport?.runningGradient.map { ($0.time, $0.gradient[0]) } ?? [], uniquingKeysWith: { a, _ in a })
        let samples = partialEstimate.report.runningGradient
        let rows = samples.map { sample in
            [sample.time, horizon - sample.time, drift[sample.time] ?? .nan, fullRunning[sample.time] ?? .nan, sample.gradient[0]]
        }
        try files.write(
            CSVTable.numbers(header: ["t", "backward_elapsed", "drift", "running_gradient_full", "running_gradient_partial"], rows: rows),
            to: "drift.csv")
        let title = "turn-off, I = \(TrajectoryOutput.number(current)) µA/cm², τ = \(TrajectoryOutput.number(horizon)) ms, \(integrator) forward"
        let times = rows.map { $0[0] }
        // (V, w) with w dimensionless and below 1: the norm is the voltage's error in mV.
        let driftChart = LineChart(
            title: "Full-adjoint backsolve drift (\(title))", xLabel: "t (ms)", yLabel: "‖y_backward(t) − y_forward(t)‖₂ (mV)",
            series: [.init(label: "drift", x: times, y: rows.map { $0[2] })], yScale: .logarithmic,
            referenceLines: [.init(label: "threshold \(TrajectoryOutput.number(threshold)) mV", y: threshold)])
        try files.write(driftChart.svg(), to: "drift.svg")
        // The loss is dimensionless (docs/SCIENCE.md "Turn-off"), so dL/dI is per µA/cm².
        let gradientLabel = "dL/dI collected on [t, T] (cm²/µA)"
        let series: [LineChart.Series] = [
            .init(label: "full adjoint (backsolve)", x: times, y: rows.map { $0[3] }),
            .init(label: "partial adjoint (stored trajectory)", x: times, y: rows.map { $0[4] }),
        ]
        // Clipped to three times the partial adjoint's range: a diverging backsolve's running
        // gradient reaches 10¹¹ and would flatten the trustworthy curve to a line at zero.
        let limit = 3 * (rows.map { abs($0[4]) }.filter(\.isFinite).max() ?? 0)
        let gradientChart = LineChart(
            title: "Running gradient ∫ₜᵀ λᵀ∂f/∂I ds (\(title))", xLabel: "t (ms)",
            yLabel: gradientLabel + (limit > 0 ? ", axis clipped at ±\(String(format: "%.3g", limit))" : ""),
            series: series, yDomain: limit > 0 ? -limit...limit : nil)
        try files.write(gradientChart.svg(), to: "drift-gradient.svg")
        // The magnitudes on a logarithmic axis, unclipped: how many decades the backsolve's
        // running gradient leaves the stored trajectory's behind, and where.
        let magnitudeChart = LineChart(
            title: "Running gradient magnitude |∫ₜᵀ λᵀ∂f/∂I ds| (\(title))", xLabel: "t (ms)", yLabel: "|" + gradientLabel + "|",
            series: series.map { .init(label: $0.label, x: $0.x, y: $0.y.map(abs)) }, yScale: .logarithmic)
        try files.write(magnitudeChart.svg(), to: "drift-gradient-magnitude.svg")

        try files.commit()
        var lines = [files.summary]
        lines.append("partial adjoint: loss \(String(format: "%.6g", partialEstimate.loss)), dL/dI = \(String(format: "%.6g", partialEstimate.gradient[0]))")
        switch full {
        case let .success(estimate):
            lines.append("full adjoint:    loss \(String(format: "%.6g", estimate.loss)), dL/dI = \(String(format: "%.6g", estimate.gradient[0]))")
            let crossing = estimate.report.drift.first { !($0.distance <= threshold) }
            if let crossing {
                lines.append("drift exceeds \(TrajectoryOutput.number(threshold)) mV at t = \(String(format: "%.4g", crossing.time)) ms, after \(String(format: "%.4g", horizon - crossing.time)) ms of backsolve")
            } else {
                lines.append("drift stays below \(TrajectoryOutput.number(threshold)) mV over the whole horizon")
            }
            if let worst = estimate.report.drift.max(by: { $0.distance < $1.distance }) {
                lines.append("largest drift \(String(format: "%.3g", worst.distance)) at t = \(String(format: "%.4g", worst.time)) ms")
            }
            if let diverged = estimate.report.drift.first(where: { !($0.relativeDistance <= AdjointMethod.defaultDriftTolerance) }) {
                lines.append("DIVERGED: relative drift \(String(format: "%.3g", diverged.relativeDistance)) at t = \(String(format: "%.4g", diverged.time)) ms exceeds the full adjoint's tolerance \(AdjointMethod.defaultDriftTolerance): its gradient is unreliable (without this diagnostic it would have failed)")
            } else {
                lines.append("full adjoint within its drift tolerance \(AdjointMethod.defaultDriftTolerance)")
            }
        case let .failure(error):
            let reason = (error as? ODEError)?.description ?? "\(error)"
            lines.append("full adjoint failed: \(reason); its running-gradient column is nan")
            if let fallback {
                lines.append("drift column: y alone integrated backward with dopri5 from the dopri5 forward state at T\(fallback.failure.map { ", which diverges near t = \(String(format: "%.4g", $0.time)) ms" } ?? "")")
                if let crossing = fallback.samples.first(where: { !($0.distance <= threshold) }) {
                    lines.append("drift exceeds \(TrajectoryOutput.number(threshold)) mV at t = \(String(format: "%.4g", crossing.time)) ms, after \(String(format: "%.4g", horizon - crossing.time)) ms of backward integration")
                }
            }
        }
        return lines
    }
}
