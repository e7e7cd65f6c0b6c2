import NeuroODE

/// The integrators `simulate` can run, by their command-line names.
///
/// Adding an integrator takes one case here, its line in ``isFixedStep``, and one arm in
/// ``IntegratorSettings/solve(_:output:spikes:)``.
public enum IntegratorKind: String, CaseIterable, Sendable {
    case leapfrog
    case leapfrogPaper = "leapfrog-paper"
    case dopri5
    case cvodeBDF = "cvode-bdf"
    case cvodeAdams = "cvode-adams"

    /// Fixed-step methods take `--dt`; adaptive ones take `--rtol`, `--atol` and `--max-steps`.
    public var isFixedStep: Bool {
        switch self {
        case .leapfrog, .leapfrogPaper: true
        case .dopri5, .cvodeBDF, .cvodeAdams: false
        }
    }

    public var summary: String {
        switch self {
        case .leapfrog: "staggered trapezoid, fixed step, second order (conductance-based neuron models)"
        case .leapfrogPaper: "the paper's leapfrog map: instantaneous terms at the step start, first order"
        case .dopri5: "Dormand–Prince 5(4), adaptive explicit (non-stiff problems)"
        case .cvodeBDF: "SUNDIALS CVODE, BDF with dense Newton (stiff problems)"
        case .cvodeAdams: "SUNDIALS CVODE, Adams–Moulton with dense Newton (non-stiff problems)"
        }
    }
}

/// The chosen integrator with its settings, all validated on the command line.
public struct IntegratorSettings: Sendable {
    public var kind: IntegratorKind
    public var stepSize: Double
    public var relativeTolerance: Double
    public var absoluteTolerance: Double
    public var maxSteps: Int
    /// The leapfrog's arithmetic (float32 for models with single-precision kernels).
    public var precision: Precision = .f64

    /// Solves `problem` with the chosen integrator.
    ///
    /// Generic over the system, so each catalog entry instantiates every integrator for its own
    /// model type: the right-hand side is specialised into the step loop, with no existential
    /// dispatch per evaluation.
    public func solve<System: ODESystem>(
        _ problem: ODEProblem<System>, output: OutputSchedule, spikes: SpikeDetection?
    ) throws(ODEError) -> Solution {
        switch kind {
        case .leapfrog:
            try Leapfrog(stepSize: stepSize, precision: precision).solve(problem, output: output, spikes: spikes)
        case .leapfrogPaper:
            try Leapfrog(stepSize: stepSize, instantaneousVoltage: .stepStart, precision: precision)
                .solve(problem, output: output, spikes: spikes)
        case .dopri5:
            try DormandPrince(relativeTolerance: relativeTolerance, absoluteTolerance: absoluteTolerance, maxSteps: maxSteps)
                .solve(problem, output: output, spikes: spikes)
        case .cvodeBDF, .cvodeAdams:
            try CVODE(method: kind == .cvodeBDF ? .bdf : .adams, relativeTolerance: relativeTolerance,
                      absoluteTolerance: absoluteTolerance, maxSteps: maxSteps)
                .solve(problem, output: output, spikes: spikes)
        }
    }

    /// Sets every stored property.
    public init(kind: IntegratorKind, stepSize: Double, relativeTolerance: Double, absoluteTolerance: Double, maxSteps: Int, precision: Precision = .f64) {
        self.kind = kind
        self.stepSize = stepSize
        self.relativeTolerance = relativeTolerance
        self.absoluteTolerance = absoluteTolerance
        self.maxSteps = maxSteps
        self.precision = precision
    }
}
