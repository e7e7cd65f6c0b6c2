/// The floating-point precision a simulation computes in.
///
/// float64 is the default and the reference; float32 halves memory traffic and doubles the SIMD
/// width, for forward-only work on networks (``Leapfrog/precision``). Methods that differentiate the
/// discrete map (BPTT, the adjoints) or difference it (finite differences) refuse float32: its
/// rounding (about 6e−8 relative per operation) is far above their step and tolerance scales.
public enum Precision: String, Sendable, Codable, CaseIterable {
    /// IEEE binary64.
    case f64
    /// IEEE binary32.
    case f32
}
