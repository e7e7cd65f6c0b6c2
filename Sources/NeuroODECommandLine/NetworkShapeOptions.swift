import ArgumentParser
import Foundation
import Gradients
import NeuroODE
import NeuroODEStudies

/// The evidence-shaped network the gradient benchmarks (`bench es`, `bench bptt`) run on.
struct NetworkShapeOptions: ParsableArguments {
    @Option(help: "Neurons N.") var neurons = 128
    @Option(help: "Input channels M.") var inputs = 50
    @Option(help: "Trials B.") var batch = 64
    @Option(help: "Leapfrog steps of the simulated span (50 tokens share it).") var steps = 3000
    @Option(help: "Worker threads.") var threads = Parallelism.defaultThreadCount
    @Option(help: "Step size in ms.") var dt = 0.1
    @Option(help: "Random seed for weights, input and initial state.") var seed: UInt64 = 1
    @Option(help: "text or json.") var format: BenchFormat = .text

    func validate() throws {
        guard neurons > 0, inputs > 0, batch > 0 else { throw ValidationError("--neurons, --inputs and --batch must be positive") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard dt.isFinite, dt > 0 else { throw ValidationError("--dt must be finite and positive") }
    }

    func benchmark(precision: Precision) -> NetworkGradientBenchmark {
        NetworkGradientBenchmark(neurons: neurons, inputs: inputs, batchSize: batch, stepSize: dt, seed: seed, precision: precision)
    }

    /// Prints `run` as text or as the JSON object of `benchmark`, with `settings` added.
    func report(_ run: NetworkGradientBenchmark.Run, benchmark: String, precision: Precision, settings: [String: String]) throws {
        let shape = ["neurons": "\(neurons)", "inputs": "\(inputs)", "batch": "\(batch)", "steps": "\(steps)", "dt": "\(dt)", "seed": "\(seed)"]
        var measurements = [
            "seconds": run.seconds, "bytesStored": Double(run.bytesStored), "loss": run.loss, "gradientNorm": run.gradientNorm,
            "forwardSolves": Double(run.forwardSolves), "neuronStepsPerSecond": run.neuronStepsPerSecond,
        ]
        if let peak = run.peakBytes { measurements["peakBytes"] = Double(peak) }
        if benchmark == "es" { measurements["secondsPerIteration"] = run.seconds }
        let result = BenchResult(
            benchmark: benchmark, precision: precision, threads: threads, settings: shape.merging(settings) { a, _ in a },
            measurements: measurements)
        if format == .json { return try result.printJSON() }
        let peak = run.peakBytes.map { String(format: "%.1f MB", Double($0) / 1e6) } ?? "unmeasurable"
        print("evidence network: N = \(neurons), M = \(inputs), B = \(batch), Δt = \(dt) ms, 50 tokens, cross-entropy readout, \(precision.rawValue), \(threads) thread(s)")
        print(String(format: "%@ %d steps: %.3f s, stored %.1f MB, peak %@, loss %.6f, |g| %.4g, %d forward solve(s), %.1f M neuron-steps/s",
                     run.method, run.steps, run.seconds, Double(run.bytesStored) / 1e6, peak, run.loss, run.gradientNorm,
                     run.forwardSolves, run.neuronStepsPerSecond / 1e6))
    }
}
