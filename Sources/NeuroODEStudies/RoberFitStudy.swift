import Foundation
import Gradients

/// `rober-fit`: SCIENCE.md's claim 5 — ES and BP (the partial adjoint through CVODES) each train
/// the ROBER neural ODE with the output scaling on and off, from the same initialization, and
/// the runs are compared (README "rober-fit").
///
/// A run that fails (an iteration keeps failing until the trainer gives up) is a result of the
/// comparison, recorded with its iteration and reason; the other runs go on. On SIGINT/SIGTERM
/// the current iteration finishes and the runs done so far are written.
public struct RoberFitStudy: Codable, Equatable, Sendable {
    /// The methods this study trains with: ES, BP, and finite differences as a reference.
    public static let methodChoices: [GradientMethodKind] = [.es, .adjointPartial, .fd]

    /// ``GradientMethodKind`` names, from ``methodChoices``.
    public var methods = ["es", "adjoint-partial"]
    /// Output scalings to train with: "on", "off".
    public var scalings = ["on", "off"]
    /// The paper's configuration instead of the small default.
    public var paper = false
    /// Iterations, ES samples and σ (nil: the configuration's).
    public var iterations: Int?
    public var samples: Int?
    public var sigma: Double?
    public var seed: UInt64 = 0
    /// The result directory.
    public var directory = "out/rober-fit"

    public init() {}

    /// The methods, the scalings (true: on) and the problem configuration, after checking the
    /// settings; the error names the option at fault.
    public func validate() throws(CommandLineError) -> (kinds: [GradientMethodKind], scalings: [Bool], configuration: RoberFitTraining.Configuration) {
        var kinds: [GradientMethodKind] = []
        for name in methods {
            guard let kind = GradientMethodKind(rawValue: name), Self.methodChoices.contains(kind) else {
                throw .unknownName(kind: "method", name: name, owner: "rober-fit", choices: Self.methodChoices.map(\.rawValue))
            }
            guard !kinds.contains(kind) else { throw .invalidValue(option: "--methods", value: name, reason: "listed twice") }
            kinds.append(kind)
        }
        guard !kinds.isEmpty else { throw .invalidValue(option: "--methods", value: "", reason: "name at least one method") }
        var scaled: [Bool] = []
        for name in scalings {
            guard name == "on" || name == "off" else { throw .unknownName(kind: "scaling", name: name, choices: ["on", "off"]) }
            guard !scaled.contains(name == "on") else { throw .invalidValue(option: "--scaling", value: name, reason: "listed twice") }
            scaled.append(name == "on")
        }
        guard !scaled.isEmpty else { throw .invalidValue(option: "--scaling", value: "", reason: "name on, off or both") }
        if samples != nil || sigma != nil, !kinds.contains(.es) {
            throw .inapplicable(option: samples != nil ? "--samples" : "--sigma", reason: "no ES run is trained")
        }
        var configuration = paper ? RoberFitTraining.Configuration.paper : .small
        for (option, value) in [("--iterations", iterations), ("--samples", samples)] {
            if let value, value < 1 { throw .invalidValue(option: option, value: "\(value)", reason: "must be at least 1") }
        }
        configuration.iterations = iterations ?? configuration.iterations
        configuration.samples = samples ?? configuration.samples
        if let sigma, !(sigma.isFinite && sigma > 0) {
            throw .invalidValue(option: "--sigma", value: "\(sigma)", reason: "must be finite and positive")
        }
        configuration.sigma = sigma ?? configuration.sigma
        return (kinds, scaled, configuration)
    }

    /// The problems of each scaling, and the memory the runs' logs take, checked against `limit`.
    public func problems(memoryLimit limit: MemoryLimit = .machine) throws -> [RoberFitTraining] {
        let (kinds, scalings, base) = try validate()
        var estimate = MemoryEstimate()
        RunEstimate.samples(&estimate, samples)
        RunEstimate.log(&estimate, iterations: base.iterations, runs: kinds.count * scalings.count)
        try estimate.check(against: limit)
        return try scalings.map { scaled in
            var configuration = base
            configuration.scaled = scaled
            return try RoberFitTraining(configuration: configuration)
        }
    }

    /// Trains `plans` in order, then writes curves.csv, summary.json, fit.svg and loss.svg into
    /// ``directory`` (with its manifest); returns the table and the files' lines. Throws
    /// ``Interruption`` after writing when an interrupt stopped the runs.
    public func run(_ plans: [RoberFitRun], problems: [RoberFitTraining], optimizer: OptimizerChoice) throws -> String {
        var files = try DiagnosticFiles(directory: directory)
        Interruption.install()
        var runs: [RoberFitRun] = []
        for var run in plans where !Interruption.requested {
            run.train(optimizer: optimizer)
            runs.append(run)
        }
        let report = RoberFitReport(
            runs: runs, paper: paper, seed: seed, iterations: problems.first?.configuration.iterations ?? 0, optimizer: optimizer,
            configurations: problems.map(\.configuration))
        try files.write(report.curvesCSV(), to: "curves.csv")
        try files.write(report.summaryJSON(), to: "summary.json")
        try files.write(report.fitChart(), to: "fit.svg")
        try files.write(report.lossChart(), to: "loss.svg")
        try files.commit()
        if Interruption.requested {
            throw Interruption.stopped(after: "\(runs.count) of \(plans.count) runs (the last one partial) written to \(directory)")
        }
        return report.table() + "\n" + files.summary + "\n"
    }
}
