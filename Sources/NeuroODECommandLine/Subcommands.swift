import ArgumentParser

/// The commands under `neuroode`, in `--help` order: one list for the root command, the
/// `--config` expansion (``ConfigFileArguments``) and the fuzz targets (Validation/fuzz).
enum Subcommands {
    static let all: [any ParsableCommand.Type] = [
        SimulateCommand.self,
        GradientCommand.self,
        CompareCommand.self,
        TrainCommand.self,
        ListCommand.self,
        Bench.self,
        LandscapeCommand.self,
        ReversibilityCommand.self,
        DriftCommand.self,
        RoberFitCommand.self,
    ]
}
