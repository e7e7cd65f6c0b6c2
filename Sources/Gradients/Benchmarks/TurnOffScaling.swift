import Dispatch
import NeuroODE

/// Issue-3 benchmark: memory and time of every gradient method on the turn-off task as the
/// horizon grows (100 ms … 10 s). Stored bytes are what each method keeps for its backward pass;
/// peak bytes are the kernel's measurement of the resident memory the evaluation added.
public enum TurnOffScaling {
    /// One method at one horizon; the optional fields are `nil` when the method failed there.
    public struct Row: Sendable, Codable {
        /// The gradient method's name.
        public var method: String
        /// τ (ms).
        public var horizon: Double
        /// Leapfrog steps of 0.1 ms over the horizon.
        public var steps: Int
        /// L at I = 100.
        public var loss: Double?
        /// dL/dI at I = 100 (ES: its estimate of the smoothed loss's derivative).
        public var gradient: Double?
        /// Bytes of forward state the method kept for its backward pass.
        public var bytesStored: Int?
        /// Resident memory the evaluation added, as the kernel measured it.
        public var peakBytes: Int?
        /// Wall time of the evaluation, in seconds.
        public var seconds: Double?
        /// Why the method failed at this horizon (a result, not an omission).
        public var failure: String?
    }

    /// The methods compared, with the settings the table states.
    public static func methods(samples: Int, sigma: Double, seed: UInt64) -> [any GradientMethod] {
        [
            BackpropagationThroughTime(),
            BackpropagationThroughTime(checkpointing: .squareRoot),
            AdjointMethod(variant: .full, backwardIntegrator: DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)),
            AdjointMethod(variant: .partial, backwardIntegrator: DormandPrince(relativeTolerance: 1e-8, absoluteTolerance: 1e-10)),
            EvolutionStrategy(samples: samples, sigma: sigma, seed: seed),
        ]
    }

    /// Runs every method at every horizon (leapfrog, Δt = 0.1 ms, I = 100) and returns the rows,
    /// reporting each as it finishes.
    public static func run(
        horizons: [Double], methods: [any GradientMethod], progress: (Row) -> Void = { _ in }
    ) throws -> [Row] {
        var rows: [Row] = []
        for horizon in horizons {
            let task = try TurnOffTask.make(horizon: horizon)
            for method in methods {
                var row = Row(method: method.name, horizon: horizon, steps: try FixedStepCount.covering(span: horizon, stepSize: 0.1))
                let clock = DispatchTime.now().uptimeNanoseconds
                do {
                    let (estimate, peak) = try PeakMemory.measure { try method.estimate(task, at: [100], iteration: 0) }
                    row.loss = estimate.loss
                    row.gradient = estimate.gradient[0]
                    row.bytesStored = estimate.report.bytesStored
                    row.peakBytes = peak
                } catch {
                    row.failure = "\(error)"
                }
                row.seconds = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
                rows.append(row)
                progress(row)
            }
        }
        return rows
    }
}
