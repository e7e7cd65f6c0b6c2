import Testing
@testable import Gradients
@testable import NeuroODE

/// BPTT through dopri5 over a batch of independent copies (the spiral's windows) cut into parts,
/// each part recording its own adaptive step grid (``BatchedSystem``'s ``TrialBatchedSystem``
/// conformance, README "Performance").
@Suite struct AdaptivePartsBPTTTests {
    /// The spiral at H = 16, a θ away from the initialization, and the windows `starts` as a task
    /// whose batch is cut at `grain` copies × parameters (82 parameters: grain 1 allows the most
    /// parts, 20 / 8 = 2 for 20 windows).
    private func spiral() throws -> (SpiralTask, starts: [Int], theta: [Double]) {
        let spiral = try SpiralTask(hidden: 16)
        let theta = spiral.model.initialParameters(seed: 1).enumerated().map { $0.element * (1 + 0.1 * Double($0.offset % 3)) }
        return (spiral, spiral.windowStarts(seed: 0, iteration: 3, windows: 20, windowLength: 10), theta)
    }

    private func task(_ spiral: SpiralTask, _ starts: [Int], grain: Int = 1)
        throws -> TrainingTask<BatchedSystem<NeuralODE>, DormandPrince, TrajectoryMatchingLoss>
    {
        let whole = try spiral.batchTask(starts: starts, parameters: spiral.model.defaultParameters)
        return try TrainingTask(
            name: whole.name, system: BatchedSystem(spiral.model, batchSize: starts.count, minimumWorkPerPart: grain),
            initialState: whole.initialState, systemParameters: whole.systemParameters, timeSpan: whole.timeSpan,
            integrator: whole.integrator, loss: whole.loss, training: spiral.model.parameterNames)
    }

    /// The grain decides the parts: the default keeps H = 50's 20 windows whole and cuts H = 1000's
    /// in two; grain 1 cuts 20 windows of H = 16 in two.
    @Test func theGrainDecidesTheParts() throws {
        #expect(try BatchedSystem(SpiralTask(hidden: 50).model, batchSize: 20).maximumParts == 1)
        #expect(try BatchedSystem(SpiralTask(hidden: 1000).model, batchSize: 20).maximumParts == 2)
        let (spiral, starts, _) = try spiral()
        #expect(try task(spiral, starts).system.maximumParts == 2)
        #expect(try task(spiral, starts, grain: 32_768).system.maximumParts == 1)
    }

    /// The split gradient is exactly half the sum of the two 10-window tasks' gradients (each of
    /// which divides its mean by 10 windows, the whole by 20), bit for bit, for 1 and 2 threads.
    @Test func partsAreTheHalvesTasksSweptApart() throws {
        let (spiral, starts, theta) = try spiral()
        let split = try BackpropagationThroughTime(threads: 1).estimate(task(spiral, starts), at: theta, iteration: 0)
        let halves = try [starts[..<10], starts[10...]].map { starts in
            try BackpropagationThroughTime(threads: 1).estimate(task(spiral, Array(starts)), at: theta, iteration: 0)
        }
        #expect(split.loss == halves[0].loss / 2 + halves[1].loss / 2)
        let expected = zip(halves[0].gradient, halves[1].gradient).map { $0 / 2 + $1 / 2 }
        #expect(split.gradient.count == expected.count)
        #expect(zip(split.gradient, expected).allSatisfy { $0 == $1 }, "the split gradient is not the halves' mean")
        let twoThreads = try BackpropagationThroughTime(threads: 2).estimate(task(spiral, starts), at: theta, iteration: 0)
        #expect(twoThreads.loss == split.loss)
        #expect(zip(twoThreads.gradient, split.gradient).allSatisfy { $0 == $1 }, "2 threads differ from 1")
    }

    /// Per-part step control changes the discretisation, not the gradient: against the whole batch
    /// on one shared grid (the default grain keeps it whole), the loss agrees to the tolerance's
    /// order (rtol = atol = 1e-4) and the gradient to within 1 % of its norm.
    @Test func partsAgreeWithOneSharedGrid() throws {
        let (spiral, starts, theta) = try spiral()
        let split = try BackpropagationThroughTime().estimate(task(spiral, starts), at: theta, iteration: 0)
        let shared = try BackpropagationThroughTime().estimate(task(spiral, starts, grain: 32_768), at: theta, iteration: 0)
        #expect(split.loss != shared.loss, "the parts should take their own steps")
        #expect(abs(split.loss - shared.loss) < 1e-3 * shared.loss)
        let difference = zip(split.gradient, shared.gradient).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        let norm = shared.gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
        #expect(norm > 0 && difference < 1e-2 * norm, "‖Δg‖ = \(difference), ‖g‖ = \(norm)")
    }

    /// The stage caches of ``PullbackCaching`` change no bit: BPTT through dopri5 of the batch
    /// equals that of the same batch seen only as ``VectorJacobianProviding`` (wrapped in
    /// ``SmoothPiece``, which forwards the right-hand side and pullback and nothing else).
    @Test func stageCachesChangeNothing() throws {
        let (spiral, starts, theta) = try spiral()
        let cached = try task(spiral, starts, grain: 32_768)
        #expect((cached.system as Any) is any PullbackCaching)
        #expect(!((SmoothPiece(base: cached.system) as Any) is any PullbackCaching))
        let plain = try TrainingTask(
            name: cached.name, system: SmoothPiece(base: cached.system), initialState: cached.initialState,
            systemParameters: cached.systemParameters, timeSpan: cached.timeSpan, integrator: cached.integrator,
            loss: cached.loss, training: spiral.model.parameterNames)
        let a = try BackpropagationThroughTime().estimate(cached, at: theta, iteration: 0)
        let b = try BackpropagationThroughTime().estimate(plain, at: theta, iteration: 0)
        #expect(a.loss == b.loss)
        #expect(zip(a.gradient, b.gradient).allSatisfy { $0 == $1 }, "the cached gradient differs")
    }
}
