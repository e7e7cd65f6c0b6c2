import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode drift`: on the turn-off task, how far the full adjoint's backsolved state drifts from
/// the forward trajectory along the horizon, and what that does to its running gradient, next to
/// the partial adjoint's (which reads the stored trajectory and cannot drift).
struct DriftCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Full-adjoint backsolve drift and running gradients (full vs partial) along the turn-off horizon.",
        discussion: """
            Turn-off task (Morris–Lecar hopf, I as given, from the I = 100 cycle state). Forward: dopri5 (default; \
            the running loss integrated as an extra state, which the drift norm includes) or leapfrog. Both adjoints \
            integrate backward with dopri5 at --rtol/--atol. The running gradient at t is ∫ₜᵀ λᵀ∂f/∂I ds: the part of \
            dL/dI collected between t and T; at t = 0 it is the gradient. When the backsolve diverges, the full \
            adjoint's columns are nan and the drift column comes from integrating y alone backward with dopri5 (as \
            `reversibility` does), which shows where it leaves the trajectory. Every option can also come from \
            --config FILE.json (keys: the option names without dashes); flags override the file. Writes drift.csv, \
            drift.svg and drift-gradient.svg to --out.
            """)


    @Option(parsing: .unconditional, help: "Horizon τ in ms (default 1000).") var horizon: Double?
    @Option(parsing: .unconditional, help: "Injected current I (default 100).") var current: Double?
    @Option(help: ArgumentHelp("Forward integrator: dopri5 or leapfrog (default dopri5).", valueName: "name")) var integrator: String?
    @Option(parsing: .unconditional, help: "Leapfrog step in ms (leapfrog only; default 0.1).") var dt: Double?
    @Option(parsing: .unconditional, help: "Relative tolerance of dopri5, forward and backward (default 1e-8).") var rtol: Double?
    @Option(parsing: .unconditional, help: "Absolute tolerance, likewise (default 1e-10).") var atol: Double?
    @Option(parsing: .unconditional, help: "Diagnostic times along the horizon (default 1000).") var points: Int?
    @Option(parsing: .unconditional, help: "Drift (mV) whose first crossing is reported (default 1).") var threshold: Double?
    @Option(help: ArgumentHelp("Output directory (default out/drift).", valueName: "dir")) var out: String?
    @OptionGroup var configOption: ConfigOption

    func run() throws {
        let horizon = self.horizon ?? 1000
        let current = self.current ?? 100
        let integratorName = integrator ?? "dopri5"
        let dtGiven = dt
        let rtol = self.rtol ?? 1e-8
        let atol = self.atol ?? 1e-10
        let points = self.points ?? 1000
        let threshold = self.threshold ?? 1
        let out = self.out ?? "out/drift"
        guard horizon.isFinite, horizon > 0 else {
            throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "the horizon (ms) must be finite and positive")
        }
        guard current.isFinite else { throw CommandLineError.invalidValue(option: "--current", value: "\(current)", reason: "must be finite") }
        guard integratorName == "dopri5" || integratorName == "leapfrog" else {
            throw CommandLineError.unknownName(kind: "integrator", name: integratorName, choices: ["dopri5", "leapfrog"])
        }
        if dtGiven != nil, integratorName != "leapfrog" {
            throw CommandLineError.inapplicable(option: "--dt", reason: "dopri5 chooses its own steps")
        }
        let dt = dtGiven ?? 0.1
        guard dt.isFinite, dt > 0, dt <= horizon else {
            throw CommandLineError.invalidValue(option: "--dt", value: "\(dt)", reason: "the step must be finite, positive and at most the horizon")
        }
        guard rtol.isFinite, rtol >= 1e-14, rtol < 1 else {
            throw CommandLineError.invalidValue(option: "--rtol", value: "\(rtol)", reason: "must be in [1e-14, 1)")
        }
        guard atol.isFinite, atol > 0 else { throw CommandLineError.invalidValue(option: "--atol", value: "\(atol)", reason: "must be finite and positive") }
        guard points >= 1 else { throw CommandLineError.invalidValue(option: "--points", value: "\(points)", reason: "need at least 1") }
        guard threshold.isFinite, threshold > 0 else {
            throw CommandLineError.invalidValue(option: "--threshold", value: "\(threshold)", reason: "must be finite and positive")
        }
        // Sizes and step counts before any work (README "Resource limits").
        if integratorName == "leapfrog" {
            do {
                _ = try FixedStepCount.covering(span: horizon, stepSize: dt)
            } catch {
                throw CommandLineError.invalidValue(option: "--horizon", value: "\(horizon)", reason: "\(error)")
            }
        }
        var estimate = MemoryEstimate()
        RunEstimate.turnOff(&estimate, horizon: horizon, stepSize: integratorName == "leapfrog" ? dt : 0.1, kinds: [.adjointPartial])
        estimate.add("the diagnostic rows", option: "--points", value: points, doubles: 40 * Double(points))
        try estimate.check(against: .machine, remedy: "make it smaller")
        var files = try DiagnosticFiles(directory: out)
        files.configuration = [
            "task": .string("turn-off"), "horizon": .number(horizon), "I": .number(current), "integrator": .string(integratorName),
            "dt": .number(dt), "rtol": .number(rtol), "atol": .number(atol), "points": .integer(points), "threshold": .number(threshold),
            "precision": .string("f64"),
        ]

        let backward = DormandPrince(relativeTolerance: rtol, absoluteTolerance: atol)
        let run: (AdjointMethod) -> Result<GradientEstimate, any Error> = { method in
            Result {
                integratorName == "leapfrog"
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
            DiagnosticFiles.csv(header: ["t", "backward_elapsed", "drift", "running_gradient_full", "running_gradient_partial"], rows: rows),
            to: "drift.csv")
        let title = "turn-off, I = \(TrajectoryOutput.number(current)), \(TrajectoryOutput.number(horizon)) ms, \(integratorName) forward"
        let times = rows.map { $0[0] }
        let driftChart = LineChart(
            title: "Full-adjoint backsolve drift (\(title))", xLabel: "t (ms)", yLabel: "‖y_backward(t) − y_forward(t)‖₂",
            series: [.init(label: "drift", x: times, y: rows.map { $0[2] }),
                     .init(label: "threshold \(TrajectoryOutput.number(threshold)) mV", x: [0, horizon], y: [threshold, threshold])],
            yScale: .logarithmic)
        try files.write(driftChart.svg(), to: "drift.svg")
        // Clipped to three times the partial adjoint's range: a diverging backsolve's running
        // gradient reaches 10¹¹ and would flatten the trustworthy curve to a line at zero.
        let limit = 3 * (rows.map { abs($0[4]) }.filter(\.isFinite).max() ?? 0)
        let gradientChart = LineChart(
            title: "Running gradient ∫ₜᵀ λᵀ∂f/∂I ds (\(title))", xLabel: "t (ms)",
            yLabel: "dL/dI collected on [t, T]" + (limit > 0 ? " (axis clipped at ±\(String(format: "%.3g", limit)))" : ""),
            series: [.init(label: "full adjoint (backsolve)", x: times, y: rows.map { $0[3] }),
                     .init(label: "partial adjoint (stored trajectory)", x: times, y: rows.map { $0[4] })],
            yDomain: limit > 0 ? -limit...limit : nil)
        try files.write(gradientChart.svg(), to: "drift-gradient.svg")

        try files.commit()
        try OutputFile.standardOutput(files.summary + "\n")
        print("partial adjoint: loss \(String(format: "%.6g", partialEstimate.loss)), dL/dI = \(String(format: "%.6g", partialEstimate.gradient[0]))")
        switch full {
        case let .success(estimate):
            print("full adjoint:    loss \(String(format: "%.6g", estimate.loss)), dL/dI = \(String(format: "%.6g", estimate.gradient[0]))")
            let crossing = estimate.report.drift.first { !($0.distance <= threshold) }
            if let crossing {
                print("drift exceeds \(TrajectoryOutput.number(threshold)) mV at t = \(String(format: "%.4g", crossing.time)) ms, after \(String(format: "%.4g", horizon - crossing.time)) ms of backsolve")
            } else {
                print("drift stays below \(TrajectoryOutput.number(threshold)) mV over the whole horizon")
            }
            if let worst = estimate.report.drift.max(by: { $0.distance < $1.distance }) {
                print("largest drift \(String(format: "%.3g", worst.distance)) at t = \(String(format: "%.4g", worst.time)) ms")
            }
            if let diverged = estimate.report.drift.first(where: { !($0.relativeDistance <= AdjointMethod.defaultDriftTolerance) }) {
                print("DIVERGED: relative drift \(String(format: "%.3g", diverged.relativeDistance)) at t = \(String(format: "%.4g", diverged.time)) ms exceeds the full adjoint's tolerance \(AdjointMethod.defaultDriftTolerance): its gradient is unreliable (without this diagnostic it would have failed)")
            } else {
                print("full adjoint within its drift tolerance \(AdjointMethod.defaultDriftTolerance)")
            }
        case let .failure(error):
            let reason = (error as? ODEError)?.description ?? "\(error)"
            print("full adjoint failed: \(reason); its running-gradient column is nan")
            if let fallback {
                print("drift column: y alone integrated backward with dopri5 from the dopri5 forward state at T\(fallback.failure.map { ", which diverges near t = \(String(format: "%.4g", $0.time)) ms" } ?? "")")
                if let crossing = fallback.samples.first(where: { !($0.distance <= threshold) }) {
                    print("drift exceeds \(TrajectoryOutput.number(threshold)) mV at t = \(String(format: "%.4g", crossing.time)) ms, after \(String(format: "%.4g", horizon - crossing.time)) ms of backward integration")
                }
            }
        }
    }
}
