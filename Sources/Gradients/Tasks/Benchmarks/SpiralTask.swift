import NeuroODE

/// SCIENCE.md's spiral neural ODE. Truth: dy/dt = (y³)A with A = [[−0.1, 2], [−2, −0.1]] (row vector y),
/// y₀ = (2, 0), sampled at 1000 points on [0, 25]. Model: dy/dt = MLP(y³), 2 → H → 2, tanh.
/// A minibatch is `windows` windows of `windowLength` consecutive points; since the system is
/// autonomous every window is integrated from its own first point over the same relative span,
/// all of them as one `BatchedSystem` with dopri5 (rtol = atol = 1e-4). Loss: MAE.
public struct SpiralTask: Sendable {
    /// A, the linear map of the truth dy/dt = (y³)A (rows act on the row vector y³).
    public static let matrix = [[-0.1, 2.0], [-2.0, -0.1]]
    /// The sample times, evenly spaced over the span (1000 points on [0, 25] by default).
    public let times: [Double]
    /// Row-major 1000 × 2 ground truth.
    public let truth: [Double]
    /// H, the width of the model's hidden layer.
    public let hidden: Int

    /// The ground truth, solved once with dopri5 at tight tolerance.
    public init(hidden: Int = 50, points: Int = 1000, span: Double = 25) throws(ODEError) {
        self.hidden = hidden
        model = NeuralODE(layerSizes: [2, hidden, 2], activation: .tanh, inputMap: .cube)
        let times = (0..<points).map { span * Double($0) / Double(points - 1) }
        let problem = try ODEProblem(system: CubicSpiral(), initialState: [2, 0], timeSpan: (0, span))
        let solution = try DormandPrince(relativeTolerance: 1e-10, absoluteTolerance: 1e-12).solve(problem, output: .times(times))
        self.times = times
        truth = solution.states
    }

    /// The model: `NeuralODE` 2 → H → 2 with tanh, applied to y³ (built once: its names and
    /// default parameters cost O(H) to make).
    public let model: NeuralODE

    /// Window start indices for a seeded minibatch.
    public func windowStarts(seed: UInt64, iteration: Int, windows: Int = 20, windowLength: Int = 10) -> [Int] {
        var generator = SeededGenerator(seed: seed, stream: UInt64(iteration))
        return (0..<windows).map { _ in Int(generator.next() % UInt64(times.count - windowLength)) }
    }

    /// The training task for one minibatch, with the MLP's weights as the trained parameters
    /// starting from `parameters`.
    public func batchTask(
        starts: [Int], windowLength: Int = 10, parameters: [Double],
        integrator: DormandPrince = DormandPrince(relativeTolerance: 1e-4, absoluteTolerance: 1e-4)
    ) throws(ODEError) -> TrainingTask<BatchedSystem<NeuralODE>, DormandPrince, TrajectoryMatchingLoss> {
        let dt = times[1] - times[0]
        let relative = (0..<windowLength).map { Double($0) * dt }
        let batch = starts.count
        let initial = starts.flatMap { [truth[2 * $0], truth[2 * $0 + 1]] }
        var targets: [Double] = []
        for k in 0..<windowLength {
            for start in starts { targets += [truth[2 * (start + k)], truth[2 * (start + k) + 1]] }
        }
        let system = BatchedSystem(model, batchSize: batch)
        return try TrainingTask(
            name: "spiral", system: system, initialState: initial, systemParameters: parameters,
            timeSpan: (0, relative.last!), integrator: integrator,
            loss: TrajectoryMatchingLoss(
                times: relative, targets: targets, dimension: 2 * batch, metric: .meanAbsolute, trialDimension: 2),
            training: model.parameterNames)
    }
}

/// The spiral's true dynamics dy/dt = (y³)A, y a row vector.
struct CubicSpiral: ODESystem {
    var name: String { "cubic-spiral" }
    var dimension: Int { 2 }
    var parameterNames: [String] { ["a11", "a12", "a21", "a22"] }
    var defaultParameters: [Double] { SpiralTask.matrix.flatMap { $0 } }
    var defaultInitialState: [Double] { [2, 0] }

    func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters a: UnsafeBufferPointer<Double>,
        into d: UnsafeMutableBufferPointer<Double>
    ) {
        let u = y[0] * y[0] * y[0], v = y[1] * y[1] * y[1]
        d[0] = u * a[0] + v * a[2]
        d[1] = u * a[1] + v * a[3]
    }
}
