import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode reversibility MODEL`: integrate forward to T, then backward from y(T) to 0 with the
/// same integrator, and write how far the backward solution is from the forward one over time —
/// why the full (backsolve) adjoint fails on irreversible systems (SCIENCE.md claim 2).
struct ReversibilityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reversibility",
        abstract: "Forward to T, backward from y(T) with the same integrator; the backward-vs-forward error over time.",
        discussion: """
            Models:
            \(ReversibilityModel.allCases.map { "  \($0.rawValue): \($0.summary)" }.joined(separator: "\n"))
            The backward pass restarts at each of the --points sampling times, so a failure is located within one \
            interval. Every option can also come from --config FILE.json (keys: the option names without dashes); \
            flags override the file. Writes reversibility.csv and reversibility.svg to --out.
            """)

    static let integrators: [IntegratorKind] = [.dopri5, .cvodeBDF, .cvodeAdams]

    @Argument(help: "The model: \(ReversibilityModel.allCases.map(\.rawValue).joined(separator: ", ")).")
    var model: String

    @Option(name: .customLong("t-end"), parsing: .unconditional, help: "End time T (default: the model's).") var tEnd: Double?
    @Option(parsing: .unconditional, help: "Sampling times (default 200).") var points: Int?
    @Option(help: ArgumentHelp(
        "Integrator, both ways: \(Self.integrators.map(\.rawValue).joined(separator: ", ")) (default: the model's).", valueName: "name"))
    var integrator: String?
    @Option(parsing: .unconditional, help: "Relative tolerance (default 1e-8).") var rtol: Double?
    @Option(parsing: .unconditional, help: "Absolute tolerance (default: the model's).") var atol: Double?
    @Option(parsing: .unconditional, help: "Error level to report the crossing of (default: the model's).") var threshold: Double?
    @Option(help: ArgumentHelp("Output directory (default out/reversibility).", valueName: "dir")) var out: String?
    @OptionGroup var configOption: ConfigOption

    func run() throws {
        guard let model = ReversibilityModel(rawValue: model) else {
            throw CommandLineError.unknownName(kind: "model", name: self.model, choices: ReversibilityModel.allCases.map(\.rawValue))
        }
        let end = tEnd ?? model.defaultEndTime
        let points = self.points ?? 200
        let integratorName = integrator ?? model.defaultIntegrator.rawValue
        let rtol = self.rtol ?? 1e-8
        let atol = self.atol ?? model.defaultAbsoluteTolerance
        let threshold = self.threshold ?? model.defaultThreshold
        let out = self.out ?? "out/reversibility"
        guard end.isFinite, end > 0 else {
            throw CommandLineError.invalidValue(option: "--t-end", value: "\(end)", reason: "must be finite and positive")
        }
        guard points >= 1 else { throw CommandLineError.invalidValue(option: "--points", value: "\(points)", reason: "need at least 1") }
        guard let kind = IntegratorKind(rawValue: integratorName), Self.integrators.contains(kind) else {
            throw CommandLineError.unknownName(kind: "integrator", name: integratorName, choices: Self.integrators.map(\.rawValue))
        }
        guard rtol.isFinite, rtol >= 1e-14, rtol < 1 else {
            throw CommandLineError.invalidValue(option: "--rtol", value: "\(rtol)", reason: "must be in [1e-14, 1)")
        }
        guard atol.isFinite, atol > 0 else { throw CommandLineError.invalidValue(option: "--atol", value: "\(atol)", reason: "must be finite and positive") }
        guard threshold.isFinite, threshold > 0 else {
            throw CommandLineError.invalidValue(option: "--threshold", value: "\(threshold)", reason: "must be finite and positive")
        }
        var files = try DiagnosticFiles(directory: out)
        files.configuration = [
            "model": .string(model.rawValue), "tEnd": .number(end), "points": .integer(points), "integrator": .string(integratorName),
            "rtol": .number(rtol), "atol": .number(atol), "threshold": .number(threshold), "precision": .string("f64"),
        ]

        let times = model.samplingTimes(end: end, count: points)
        let outcome: ReversibilityCheck.Outcome
        switch kind {
        case .dopri5:
            outcome = try model.check(end: end, times: times, integrator: DormandPrince(relativeTolerance: rtol, absoluteTolerance: atol))
        default:
            outcome = try model.check(
                end: end, times: times, integrator: CVODE(method: kind == .cvodeBDF ? .bdf : .adams, relativeTolerance: rtol, absoluteTolerance: atol))
        }

        let names = model.stateNames
        let header = ["t", "backward_elapsed", "error"] + names.map { "forward_\($0)" } + names.map { "backward_\($0)" }
        let rows = outcome.samples.map { [$0.time, end - $0.time, $0.distance] + $0.forward + $0.backward }
        try files.write(CSVTable.numbers(header: header, rows: rows), to: "reversibility.csv")
        // Elapsed backward time on the x axis (0 at T); the first sample (error exactly 0) cannot
        // appear on the logarithmic error axis and is left out of the chart only.
        let shown = outcome.samples.dropFirst()
        let chart = LineChart(
            title: "\(model.rawValue): backward from y(T), T = \(TrajectoryOutput.number(end)) (\(kind.rawValue), rtol \(TrajectoryOutput.number(rtol)))",
            xLabel: "backward integration time T − t\(model.timeUnit)", yLabel: "‖y_backward(t) − y_forward(t)‖₂",
            series: [.init(label: "error", x: shown.map { end - $0.time }, y: shown.map(\.distance)),
                     .init(label: "threshold \(TrajectoryOutput.number(threshold))", x: [shown.first.map { end - $0.time } ?? 0, end], y: [threshold, threshold])],
            xScale: model.logarithmicTime ? .logarithmic : .linear, yScale: .logarithmic)
        try files.write(chart.svg(), to: "reversibility.svg")

        try files.commit()
        try OutputFile.standardOutput(files.summary + "\n")
        let reached = outcome.samples.last?.time ?? end
        if let crossing = outcome.samples.first(where: { !($0.distance <= threshold) }) {
            print("error exceeds \(TrajectoryOutput.number(threshold)) after \(String(format: "%.4g", end - crossing.time))\(model.timeUnit) of backward integration (t = \(String(format: "%.4g", crossing.time)), error \(String(format: "%.3g", crossing.distance)))")
        } else {
            print("error stays below \(TrajectoryOutput.number(threshold)) from T back to t = \(String(format: "%.4g", reached))\(outcome.failure == nil ? "" : ", the last time the backward solve reached")")
        }
        if let worst = outcome.samples.max(by: { $0.distance < $1.distance }) {
            print("largest error \(String(format: "%.3g", worst.distance)) at t = \(String(format: "%.4g", worst.time))")
        }
        if let failure = outcome.failure {
            print("the backward solve failed in the segment starting at t = \(String(format: "%.4g", failure.time)): \(failure.reason)")
        }
    }
}
