import NeuroODE

/// A system that simulates a batch of independent trials side by side, and can therefore be cut
/// into systems over disjoint trial ranges that together compute exactly what it computes (on
/// the same step grid: an adaptive integrator chooses each part's steps on its own error).
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

/// Its copies are independent trials sharing the parameters. A part keeps at least
/// ``minimumCopiesPerPart`` copies, so that a ``BatchEvaluating`` base still evaluates
/// matrix–matrix products, and at least ``BatchedSystem/minimumWorkPerPart`` copies × parameters,
/// so that its right-hand side outweighs the cost of running it on its own thread. Measured on the
/// spiral (README "Performance"): H = 1000 (5002 parameters, 20 windows) gains from 2 parts of 10
/// windows on two cores, H = 50 (252 parameters) is kept whole, as cutting it cost about 20 %. An
/// adaptive integrator controls each part's steps on that part's error alone (BPTT through dopri5).
extension BatchedSystem: TrialBatchedSystem {
    /// The fewest copies a part holds (unless the whole batch has fewer).
    public static var minimumCopiesPerPart: Int { 8 }

    public var maximumParts: Int {
        let work = batchSize * base.defaultParameters.count
        return max(1, min(batchSize / Self.minimumCopiesPerPart, work / minimumWorkPerPart))
    }

    /// `parts` near-equal consecutive ranges of the copies (sizes differ by at most one).
    public func batchRanges(parts: Int) throws(ODEError) -> [Range<Int>] {
        guard parts >= 1, parts <= maximumParts else {
            throw .dimensionMismatch(what: "number of batch parts (1 ... \(maximumParts))", expected: maximumParts, actual: parts)
        }
        return (0..<parts).map { k in (k * batchSize / parts)..<((k + 1) * batchSize / parts) }
    }

    public func splitBatch(into parts: Int) throws(ODEError) -> [BatchedSystem<Base>] {
        try batchRanges(parts: parts).map { BatchedSystem(base, batchSize: $0.count, minimumWorkPerPart: minimumWorkPerPart) }
    }

    /// The stacked state's blocks of each part's copies.
    public func splitState(_ state: [Double], into parts: Int) throws(ODEError) -> [[Double]] {
        guard state.count == dimension else {
            throw .dimensionMismatch(what: "state of \(name)", expected: dimension, actual: state.count)
        }
        let size = base.dimension
        return try batchRanges(parts: parts).map { Array(state[($0.lowerBound * size)..<($0.upperBound * size)]) }
    }
}
