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
            drift.svg, drift-gradient.svg (the running gradients, signed, axis clipped) and \
            drift-gradient-magnitude.svg (their magnitudes on a logarithmic axis) to --out.
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
        var study = DriftStudy()
        study.horizon = horizon ?? study.horizon
        study.current = current ?? study.current
        study.integrator = integrator ?? study.integrator
        study.dtGiven = dt
        study.rtol = rtol ?? study.rtol
        study.atol = atol ?? study.atol
        study.points = points ?? study.points
        study.threshold = threshold ?? study.threshold
        try OutputFile.standardOutput(try study.run(writingTo: out ?? "out/drift").joined(separator: "\n") + "\n")
    }
}
