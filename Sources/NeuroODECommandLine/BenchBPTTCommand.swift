import ArgumentParser
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode bench bptt`: one BPTT gradient of the seeded evidence-task network, every state stored
/// or checkpointed, with time and kernel-measured peak memory.
struct BenchBPTT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bptt", abstract: "Time one BPTT gradient (plain or checkpointed) on the seeded evidence-task network (float64).")

    @OptionGroup var shape: NetworkShapeOptions
    @Flag(help: "Keep every k-th state and recompute the segments.") var checkpointed = false
    @Option(help: "Checkpoint interval k (default ⌈√steps⌉).") var checkpointInterval: Int?

    @OptionGroup var configOption: ConfigOption

    func validate() throws {
        if let checkpointInterval {
            guard checkpointed else { throw ValidationError("--checkpoint-interval needs --checkpointed") }
            guard checkpointInterval >= 1 else { throw ValidationError("--checkpoint-interval must be at least 1") }
        }
    }

    func run() throws {
        let checkpointing: BackpropagationThroughTime.Checkpointing =
            !checkpointed ? .none : checkpointInterval.map { .interval($0) } ?? .squareRoot
        // Sizes before any work (README "Resource limits"): the stored trajectory.
        var estimate = MemoryEstimate()
        RunEstimate.network(&estimate, neurons: shape.neurons, batch: shape.batch, steps: Double(shape.steps),
                            kinds: [checkpointed ? .bpttCheckpointed : .bptt])
        try estimate.check(against: .machine, remedy: "make it smaller")
        let run = try shape.benchmark(precision: .f64)
            .measureBackpropagation(steps: shape.steps, checkpointing: checkpointing, threads: shape.threads)
        try shape.report(run, benchmark: checkpointed ? "bptt-checkpointed" : "bptt", precision: .f64,
                         settings: ["checkpointing": "\(checkpointing)"])
    }
}
