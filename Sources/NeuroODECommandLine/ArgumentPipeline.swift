import NeuroODEStudies
/// What happens to the raw command line before ArgumentParser sees it, in order: `--spikes`
/// without a value gets its default (``OptionalValueOption``), negative values are joined to
/// their options (``NegativeValues``), `--config FILE` becomes arguments
/// (``ConfigFileArguments``), and repeated options are merged or refused (``RepeatedOptions``).
/// One function, so that the executable and the fuzz target (Validation/fuzz) run the same path.
enum ArgumentPipeline {
    /// The arguments to parse, and the config file they came partly from (for messages).
    static func prepare(_ raw: [String]) throws(CommandLineError) -> (arguments: [String], configFile: ConfigurationFile?) {
        let typed = NegativeValues.join(OptionalValueOption.spikes.normalize(raw))
        let (expanded, configFile) = try ConfigFileArguments.expand(typed)
        return (try RepeatedOptions.coalesce(expanded), configFile)
    }
}
