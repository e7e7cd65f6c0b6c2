import Dispatch
import NeuroODE

/// Issue-3 benchmark: memory and time of every gradient method on the turn-off task as the
/// horizon grows (100 ms … 10 s). Stored bytes are what each method keeps for its backward pass;
/// peak bytes are the kernel's measurement of the resident memory the evaluation added.
public enum TurnOffScaling {
    public struct Row: Sendable, Codable {
        public var method: String
        public var horizon: Double
        public var steps: Int
        public var loss: Double?
        public var gradient: Double?
        public var bytesStored: Int?
        public var peakBytes: Int?
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
                var row = Row(method: method.name, horizon: horizon, steps: Int((horizon / 0.1).rounded()))
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
