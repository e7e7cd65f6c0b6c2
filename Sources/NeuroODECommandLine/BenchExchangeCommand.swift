import ArgumentParser
import Gradients
import NeuroODEStudies

/// `mpirun -np R neuroode bench exchange`: the bytes and latency of one distributed ES
/// iteration's exchange of losses (README "Beyond one machine: MPI"); rank 0 prints.
struct BenchExchange: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exchange", abstract: "Time the exchange of one ES iteration among MPI ranks (run under mpirun).")

    @Option(help: "ES samples S (S + 1 probes with θ).") var samples = 100
    @Option(help: "Exchanges timed (the median is reported).") var repeats = 1000
    @Option(help: "text or json.") var format: BenchFormat = .text

    @OptionGroup var configOption: ConfigOption

    func validate() throws {
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    }

    func run() throws {
        let world = ProcessGroup.world
        let run = ExchangeBenchmark(samples: samples, repeats: repeats).run(communicator: world)
        let result = BenchResult(
            benchmark: "exchange", precision: nil, threads: 1,
            settings: ["samples": "\(samples)", "repeats": "\(repeats)", "ranks": "\(world.size)"],
            measurements: [
                "bytesSentPerRank": Double(run.bytesSentPerRank), "bytesGathered": Double(run.bytesGathered),
                "secondsPerExchange": run.medianSeconds,
            ])
        if format == .json { return try result.printJSON() }
        print("ES exchange, S = \(samples), \(world.size) rank(s): \(run.bytesSentPerRank) B sent and \(run.bytesGathered) B gathered per rank")
        print("seconds per exchange: \(run.medianSeconds) (each rank's median of \(repeats), averaged over the ranks)")
    }
}
