import ArgumentParser
import Foundation
import Gradients
import NeuroODE

/// `neuroode bench network-gradient`: the cost of one gradient of the evidence-integration network
/// (BPTT, checkpointed BPTT over a longer span, one ES iteration), time and kernel-measured peak memory.
struct BenchNetworkGradient: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network-gradient",
        abstract: "Time BPTT, checkpointed BPTT and one ES iteration on the seeded evidence-task network (float64).")

    @Option(help: "Neurons N.") var neurons = 128
    @Option(help: "Input channels M.") var inputs = 50
    @Option(help: "Trials B.") var batch = 64
    @Option(help: "Leapfrog steps of plain BPTT and of the ES iteration.") var steps = 3000
    @Option(help: "Leapfrog steps of checkpointed BPTT (0 skips it).") var checkpointedSteps = 10_000
    @Option(help: "Checkpoint interval k (0: ⌈√steps⌉).") var checkpointInterval = 0
    @Option(help: "ES samples (mirrored; 0 skips the ES iteration).") var samples = 100
    @Option(help: "ES σ.") var sigma = 0.1
    @Option(help: "Worker threads of BPTT (batch parts) and of the ES iteration.") var threads = Parallelism.defaultThreadCount
    @Flag(help: "Skip plain BPTT.") var skipBPTT = false
    @Option(help: "Step size in ms.") var dt = 0.1
    @Option(help: "Random seed for weights, input and initial state.") var seed: UInt64 = 1

    func validate() throws {
        guard neurons > 0, inputs > 0, batch > 0 else { throw ValidationError("--neurons, --inputs and --batch must be positive") }
        guard steps > 0 else { throw ValidationError("--steps must be positive") }
        guard checkpointedSteps >= 0, checkpointInterval >= 0, samples >= 0 else {
            throw ValidationError("--checkpointed-steps, --checkpoint-interval and --samples must not be negative")
        }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        guard dt.isFinite, dt > 0 else { throw ValidationError("--dt must be finite and positive") }
    }

    func run() throws {
        // Sizes before any work (README "Resource limits"): the longest stored trajectory.
        var estimate = MemoryEstimate()
        RunEstimate.network(&estimate, neurons: neurons, batch: batch, steps: Double(skipBPTT ? 0 : steps), kinds: [.bptt])
        estimate.add("the token input over every step", option: "--steps", value: steps,
                     doubles: 2 * Double(max(steps, checkpointedSteps)) * dt / 6 * Double(batch) + 2 * Double(inputs) * Double(neurons))
        try estimate.check(against: .machine, remedy: "make it smaller")
        let benchmark = NetworkGradientBenchmark(neurons: neurons, inputs: inputs, batchSize: batch, stepSize: dt, seed: seed)
        print("evidence network: N = \(neurons), M = \(inputs), B = \(batch), Δt = \(dt) ms, 50 tokens, cross-entropy readout, float64")
        print("θ = W_in, W_rec, W_out, b_out (\(neurons * (inputs + neurons) + 3 * (neurons + 1)) parameters)")
        if !skipBPTT {
            report(try benchmark.measureBackpropagation(steps: steps, threads: threads))
        }
        if checkpointedSteps > 0 {
            let checkpointing: BackpropagationThroughTime.Checkpointing =
                checkpointInterval > 0 ? .interval(checkpointInterval) : .squareRoot
            report(try benchmark.measureBackpropagation(steps: checkpointedSteps, checkpointing: checkpointing, threads: threads))
        }
        if samples > 0 {
            report(try benchmark.measureEvolutionStrategy(steps: steps, samples: samples, sigma: sigma, threads: threads))
        }
    }

    private func report(_ run: NetworkGradientBenchmark.Run) {
        let peak = run.peakBytes.map { String(format: "%.1f MB", Double($0) / 1e6) } ?? "unmeasurable"
        let numbers = String(format: "%.3f s, stored %.1f MB, loss %.6f, |g| %.4g, %d forward solve(s), %.1f M neuron-steps/s",
                             run.seconds, Double(run.bytesStored) / 1e6, run.loss, run.gradientNorm, run.forwardSolves,
                             run.neuronStepsPerSecond / 1e6)
        print("\(run.method) \(run.steps) steps: \(numbers), peak \(peak)")
    }
}
