/// The package's version, defined once: `neuroode --version` prints it and every result file
/// records it (``Provenance``). Raised with each release; README "Outputs" describes the records.
public enum NeuroODEVersion {
    public static let string = "0.9.0"
}
