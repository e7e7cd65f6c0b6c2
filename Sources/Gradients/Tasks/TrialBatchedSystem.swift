import NeuroODE

/// A system that simulates a batch of independent trials side by side, and can therefore be cut
/// into systems over disjoint trial ranges that together compute exactly what it computes.
///
/// Gradient methods use this to spread one gradient over cores without changing what is
/// differentiated: each part runs its own forward and reverse pass, and only the parameter
/// cotangents, which all trials share, are summed (BPTT with `threads` > 1).
///
/// Requirements beyond the signatures: the parts take the whole system's parameter vector
/// (same names, same order), part k simulates trials `batchRanges(parts:)[k]`, and a part's state
/// is the whole state restricted to its trials, in the layout ``splitState(_:into:)`` produces.
public protocol TrialBatchedSystem: ODESystem {
    /// The most parts the batch can be cut into (at least 1).
    var maximumParts: Int { get }
    /// The trial ranges of `parts` consecutive pieces of the batch, in order.
    func batchRanges(parts: Int) throws(ODEError) -> [Range<Int>]
    /// The systems over those ranges, in order.
    func splitBatch(into parts: Int) throws(ODEError) -> [Self]
    /// A state of this system cut into the states of the parts, in order.
    func splitState(_ state: [Double], into parts: Int) throws(ODEError) -> [[Double]]
}

/// Its trials are independent and its parts share its weights (`MorrisLecarNetwork.splitBatch(into:)`).
extension MorrisLecarNetwork: TrialBatchedSystem {}
