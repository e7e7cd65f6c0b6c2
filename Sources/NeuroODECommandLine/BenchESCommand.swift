import ArgumentParser
import Gradients
import NeuroODE
import NeuroODEStudies

/// `neuroode bench es`: one ES iteration (mirrored samples plus the unperturbed one) on the seeded
/// evidence-task network, the unit of cost of ES training.
struct BenchES: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "es", abstract: "Time one ES iteration on the seeded evidence-task network.")

    @OptionGroup var shape: NetworkShapeOptions
    @Option(help: "ES samples (mirrored, even).") var samples = 100
    @Option(help: "ES σ.") var sigma = 0.1
    @Option(help: "Arithmetic of the forward passes: f64 or f32.") var precision: Precision = .f64

    @OptionGroup var configOption: ConfigOption

    func validate() throws {
        guard samples >= 2, samples % 2 == 0 else { throw ValidationError("--samples must be even and at least 2 (mirrored pairs)") }
    }

    func run() throws {
        let run = try shape.benchmark(precision: precision)
            .measureEvolutionStrategy(steps: shape.steps, samples: samples, sigma: sigma, threads: shape.threads)
        try shape.report(run, benchmark: "es", precision: precision, settings: ["samples": "\(samples)", "sigma": "\(sigma)"])
    }
}
