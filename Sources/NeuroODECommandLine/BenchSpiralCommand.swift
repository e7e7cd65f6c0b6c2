import ArgumentParser
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode bench spiral`: milliseconds per training iteration of the spiral neural ODE (BPTT
/// through dopri5 plus an Adam step), the number to set beside diffrax and torchdiffeq.
struct BenchSpiral: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spiral",
        abstract: "Time training iterations of the spiral neural ODE (BPTT through dopri5, rtol = atol = 1e-4, Adam).")

    @Option(help: "Hidden width H.") var hidden = 50
    @Option(help: "Timed iterations (after 3 untimed ones).") var iterations = 50
    @Option(help: "Seed of the initialization and the minibatches.") var seed: UInt64 = 0
    @Option(help: "text or json.") var format: BenchFormat = .text

    @OptionGroup var configOption: ConfigOption

    func validate() throws {
        guard hidden >= 1 else { throw ValidationError("--hidden must be at least 1") }
        guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
    }

    func run() throws {
        let m = try SpiralBenchmark(hidden: hidden, iterations: iterations, seed: seed).run()
        let result = BenchResult(
            benchmark: "spiral", precision: .f64, threads: 1,
            settings: ["hidden": "\(hidden)", "iterations": "\(iterations)", "windows": "20", "windowLength": "10",
                       "rtol": "1e-4", "atol": "1e-4", "seed": "\(seed)"],
            measurements: ["millisecondsPerIteration": m.medianMilliseconds, "finalLoss": m.finalLoss])
        if format == .json { return try result.printJSON() }
        print("spiral neural ODE, H = \(hidden): BPTT through dopri5 (rtol = atol = 1e-4) + Adam, 20 windows × 10 points")
        print("median \(m.medianMilliseconds) ms per iteration over \(iterations) iterations; last minibatch loss \(m.finalLoss)")
    }
}
