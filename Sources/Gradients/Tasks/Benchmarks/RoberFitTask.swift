import Foundation
import NeuroODE

/// SCIENCE.md's ROBER fit, the stiff neural-ODE task: learn ROBER's trajectories with a neural ODE.
///
/// Data: ROBER (k1 = 0.04, k2 = 3·10⁷, k3 = 10⁴) from y(0) = (1, 0, 0), solved with CVODE BDF at
/// rtol 1e-10 and per-species absolute tolerances (1e-14, 1e-18, 1e-14) — y₂ never exceeds
/// 3.7·10⁻⁵, so its tolerance must sit far below that — and sampled at 50 times log-spaced over
/// [10⁻⁵, 10⁵]. Validation/rober_fit_data.py reproduces them with SciPy.
///
/// Model: 3 → (5, GELU) × 6 → 3, the network of Kim et al. (2021) that the paper trains. With
/// scaling on, dy/dt = NN(y) ⊙ s / 10⁵, where s is the per-species maximum of the data and 10⁵
/// the time span: a network whose outputs are of order one then moves each species by about its
/// own size over the whole span, which is what makes the problem trainable. With scaling off,
/// dy/dt = NN(y), and y₂ (three orders of magnitude per unit time too fast) is lost at once.
/// The scaling is the output scale of the `NeuralODE`, i.e. the last linear layer's rows times
/// sᵢ/10⁵, so the two variants describe the same set of functions.
///
/// Loss: the mean absolute error of prediction/s against data/s over every species and time, in
/// both variants. Forward passes use CVODE BDF; the default tolerances are rtol 1e-6 and
/// atol 10⁻⁸·s per species (relative to each species' size, like the loss).
public struct RoberFitTask: Sendable {
    /// Widths from input to output: six hidden layers of five GELU units.
    public static let layerSizes = [3, 5, 5, 5, 5, 5, 5, 3]
    /// The time span the output scaling divides by.
    public static let timeScale = 1e5
    /// The integrator of the data.
    public static let dataIntegrator = CVODE(
        method: .bdf, relativeTolerance: 1e-10, absoluteTolerances: [1e-14, 1e-18, 1e-14])

    /// `count` times 10^(−5 + 10k/(count − 1)), k = 0 … count − 1.
    public static func observationTimes(count: Int = 50) -> [Double] {
        (0..<count).map { pow(10, -5 + 10 * Double($0) / Double(count - 1)) }
    }

    /// The 50 observation times.
    public let times: [Double]
    /// ROBER at ``times``, row-major (50 × 3).
    public let data: [Double]
    /// Per-species maximum of ``data``: the output scale (over the time scale) and the loss scale.
    public let speciesScale: [Double]
    /// Whether the model scales its output by the species maxima over the time scale.
    public let scaled: Bool
    /// The forward integrator of the fit.
    public let integrator: CVODE
    /// The neural ODE, with the output scale when ``scaled``.
    public let model: NeuralODE

    /// Solves ROBER for the data and builds the model.
    /// - Parameters:
    ///   - scaled: whether the network's output is multiplied by yscale / 1e5 (SCIENCE.md's scaling).
    ///   - integrator: the forward integrator; `nil` takes CVODE BDF, rtol 1e-6,
    ///     atol 10⁻⁸ × the species maximum.
    public init(scaled: Bool = true, integrator: CVODE? = nil) throws(ODEError) {
        let times = Self.observationTimes()
        let rober = try ODEProblem(system: Rober(), initialState: [1, 0, 0], timeSpan: (0, times.last!))
        let data = try Self.dataIntegrator.solve(rober, output: .times(times)).states
        var scale = [Double](repeating: 0, count: 3)
        for k in times.indices { for i in 0..<3 { scale[i] = max(scale[i], data[3 * k + i]) } }
        self.times = times
        self.data = data
        speciesScale = scale
        self.scaled = scaled
        self.integrator = integrator ?? CVODE(
            method: .bdf, relativeTolerance: 1e-6, absoluteTolerances: scale.map { 1e-8 * $0 })
        model = NeuralODE(
            layerSizes: Self.layerSizes, activation: .gelu,
            outputScale: scaled ? scale.map { $0 / Self.timeScale } : nil)
    }

    public var parameterCount: Int { model.parameterNames.count }

    /// Seeded initial weights (uniform ±1/√fan-in, see `NeuralODE.initialParameters(seed:)`).
    public func initialParameters(seed: UInt64) -> [Double] {
        model.initialParameters(seed: seed)
    }

    /// The loss: scaled MAE at the observation times.
    public var loss: TrajectoryMatchingLoss {
        TrajectoryMatchingLoss(times: times, targets: data, dimension: 3, metric: .meanAbsolute, scale: speciesScale)
    }

    /// The training task, every network weight trained, starting at θ.
    public func task(at theta: [Double]) throws(ODEError) -> TrainingTask<NeuralODE, CVODE, TrajectoryMatchingLoss> {
        try TrainingTask(
            name: scaled ? "rober-fit" : "rober-fit-unscaled", system: model, initialState: [1, 0, 0],
            systemParameters: theta, timeSpan: (0, times.last!), integrator: integrator, loss: loss,
            trainingIndices: Array(model.parameterNames.indices))
    }

    /// The model's trajectory at θ at `times` (default: the observation times), for plots.
    public func trajectory(at theta: [Double], times: [Double]? = nil) throws(ODEError) -> Solution {
        let problem = try ODEProblem(system: model, initialState: [1, 0, 0], parameters: theta, timeSpan: (0, self.times.last!))
        return try integrator.solve(problem, output: .times(times ?? self.times))
    }
}
