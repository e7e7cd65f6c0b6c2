import NeuroODE

/// The options that shape a training problem rather than the training loop (`compare`, `train`),
/// as given (`nil`: not given), resolved by each ``TrainingEntry`` against its own small or
/// `--paper` defaults. Keys are the command-line names (``ProblemOption``).
public struct ProblemSettings: Codable, Sendable, Equatable {
    /// Horizon τ, ms (turn-off).
    public var horizon: Double?
    /// Hidden width H (spiral).
    public var hidden: Int?
    /// Network size N (evidence).
    public var neurons: Int?
    /// Trials per minibatch (evidence).
    public var batch: Int?
    /// Held-out trials (evidence).
    public var testTrials: Int?
    /// How long each token is held, ms (evidence).
    public var tokenDuration: Double?
    /// `ce` or `l2` (evidence).
    public var loss: String?
    /// Output scaling off (rober-fit).
    public var unscaled = false
    /// The network's Morris–Lecar preset (evidence).
    public var preset: String?
    /// A named size and timing (evidence: paper, authors).
    public var setup: String?
    /// The forward pass's arithmetic (turn-off, evidence).
    public var precision: Precision?
    /// N, the plastic neuron's inputs (oja).
    public var inputs: Int?
    /// The student's forward integrator, `dopri5` or `leapfrog` (lif-timing).
    public var integrator: String?
    /// The leapfrog's step, ms (lif-timing).
    public var dt: Double?

    public init() {}

    public enum CodingKeys: String, CodingKey {
        case horizon, hidden, neurons, batch, loss, unscaled, preset, setup, precision, inputs, integrator, dt
        case testTrials = "test-trials"
        case tokenDuration = "token-ms"
    }

    /// `value` if it is at least 1 (or nil), else an error naming `option`.
    public func positive(_ value: Int?, _ option: String) throws(CommandLineError) -> Int? {
        if let value, value < 1 { throw .invalidValue(option: option, value: "\(value)", reason: "must be at least 1") }
        return value
    }

    /// Throws for the first option given that `entry` does not read.
    public func rejectOptions(notReadBy entry: TrainingEntry) throws(CommandLineError) {
        let given: [(ProblemOption, Bool)] = [
            (.horizon, horizon != nil), (.hidden, hidden != nil), (.neurons, neurons != nil), (.batch, batch != nil),
            (.testTrials, testTrials != nil), (.tokenDuration, tokenDuration != nil), (.loss, loss != nil), (.unscaled, unscaled),
            (.preset, preset != nil), (.setup, setup != nil), (.precision, precision != nil), (.inputs, inputs != nil),
            (.integrator, integrator != nil), (.dt, dt != nil),
        ]
        for (option, isGiven) in given where isGiven && !entry.options.contains(option) {
            throw .inapplicable(option: "--\(option.rawValue)", reason: "\(entry.name) does not take it")
        }
    }
}
