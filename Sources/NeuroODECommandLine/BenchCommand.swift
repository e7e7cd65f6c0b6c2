import ArgumentParser
import Foundation
import NeuroODE
import NeuroODEStudies

/// `neuroode bench`: performance measurements.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure simulation and gradient throughput and memory.",
        subcommands: [Simulate.self, BenchES.self, BenchBPTT.self, BenchSpiral.self, BenchRober.self, BenchGradients.self, BenchExchange.self]
    )

    /// `neuroode bench simulate`: leapfrog on the seeded evidence-task network.
    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time the leapfrog simulation of a seeded Morris–Lecar network (evidence-task shape).")

        @Option(help: "Neurons N.") var neurons = 128
        @Option(help: "Input channels M.") var inputs = 50
        @Option(help: "Trials B simulated together.") var batch = 64
        @Option(help: "Leapfrog steps per run.") var steps = 3000
        @Option(help: "Runs timed (the median is reported).") var repeats = 5
        @Option(help: "Worker threads (the batch is split across them).")
        var threads = Parallelism.defaultThreadCount
        @Option(help: "Step size in ms.") var dt = 0.1
        @Option(help: "Random seed for weights, input and initial state.") var seed: UInt64 = 1
        @Option(help: "Arithmetic: f64 or f32.") var precision: Precision = .f64
        @Option(help: "text or json.") var format: BenchFormat = .text

        @OptionGroup var configOption: ConfigOption

        func run() throws {
            // Sizes before any work (README "Resource limits"): weights, state, and the token input
            // covering every step.
            for (option, value) in [("--neurons", neurons), ("--inputs", inputs), ("--batch", batch), ("--steps", steps),
                                    ("--repeats", repeats), ("--threads", threads)] where value < 1 {
                throw CommandLineError.invalidValue(option: option, value: "\(value)", reason: "must be at least 1")
            }
            var estimate = MemoryEstimate()
            RunEstimate.network(&estimate, neurons: neurons, batch: batch, steps: 0, kinds: [.es])
            estimate.add("the token input over every step", option: "--steps", value: steps,
                         doubles: 2 * Double(steps) * (dt.isFinite ? abs(dt) : 0) / 6 * Double(batch) + 2 * Double(inputs) * Double(neurons))
            try estimate.check(against: .machine, remedy: "make it smaller")
            let benchmark = NetworkBenchmark(
                neurons: neurons, inputs: inputs, batchSize: batch, steps: steps, repeats: repeats,
                threads: threads, stepSize: dt, seed: seed, precision: precision)
            let m = try benchmark.run()
            let result = BenchResult(
                benchmark: "simulate", precision: precision, threads: threads,
                settings: ["neurons": "\(neurons)", "inputs": "\(inputs)", "batch": "\(batch)", "steps": "\(steps)",
                           "dt": "\(dt)", "repeats": "\(repeats)", "seed": "\(seed)"],
                measurements: [
                    "secondsPerRun": m.medianSeconds, "neuronStepsPerSecond": m.neuronStepsPerSecond,
                    "finalMeanVoltage": m.finalMeanVoltage,
                ].merging(m.medianMatrixProductSeconds.map { ["matrixProductSeconds": $0] } ?? [:]) { a, _ in a })
            if format == .json { return try result.printJSON() }
            print("ml-network leapfrog: N = \(neurons), M = \(inputs), B = \(batch), \(steps) steps of \(dt) ms, \(threads) thread(s), \(precision.rawValue)")
            print("runs (s):            \(m.runSeconds.map { String(format: "%.4f", $0) }.joined(separator: " "))")
            print(String(format: "seconds per run:     %.4f (median of %d)", m.medianSeconds, repeats))
            print(String(format: "neuron-steps per s:  %.1f M", m.neuronStepsPerSecond / 1e6))
            if let products = m.medianMatrixProductSeconds, let share = m.matrixProductShare {
                print(String(format: "synaptic input alone (s): %.4f (%.0f %% of a run; dgemm + token gather)", products, 100 * share))
            }
            print(String(format: "final mean V (mV):   %.3f", m.finalMeanVoltage))
        }
    }
}

extension Precision: ExpressibleByArgument {}
