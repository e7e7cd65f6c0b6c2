import NeuroODE

/// SPEC's evidence-integration data: 50 tokens per trial, 49 drawn from {e1, e2, e3, null} and an
/// end token. Each of the five tokens is a fixed random binary vector of dimension 50 with entries
/// 0 or 0.2 (each 0.2 with probability ½). Evidence counts (c1, c2, c3) are drawn uniformly over
/// the triples with c1 + c2 + c3 ≤ 49 whose maximum is unique (ties rejected), the rest is null,
/// the 49 tokens are shuffled, and the label is the most frequent evidence.
///
/// Everything derives from one seed: the vocabulary from stream 0, and each trial from a stream of
/// its own, (split, index), so the training and test sets are disjoint streams and a trial can be
/// regenerated alone.
public struct EvidenceDataset: Sendable {
    public static let tokenCount = 50
    public static let channels = 50
    /// Token indices in the vocabulary.
    public static let evidenceTokens = [0, 1, 2], nullToken = 3, endToken = 4

    public enum Split: UInt64, Sendable { case training = 1, test = 2 }

    /// One trial: its token sequence, evidence counts and label (0, 1 or 2).
    public struct Trial: Sendable, Equatable {
        public var tokens: [Int]
        public var counts: [Int]
        public var label: Int
    }

    public let seed: UInt64
    public let amplitude: Double
    /// 5 × 50 row-major token vectors.
    public let vocabulary: [Double]

    public init(seed: UInt64, amplitude: Double = 0.2) {
        self.seed = seed
        self.amplitude = amplitude
        var generator = SeededGenerator(seed: seed, stream: 0)
        vocabulary = (0..<(5 * Self.channels)).map { _ in generator.next() >> 63 == 1 ? amplitude : 0 }
    }

    /// Trial `index` of `split`.
    public func trial(_ index: Int, of split: Split) -> Trial {
        var generator = SeededGenerator(seed: seed, stream: split.rawValue, UInt64(index))
        let slots = Self.tokenCount - 1
        var counts: [Int]
        repeat {
            counts = (0..<3).map { _ in Int(generator.next() % UInt64(slots + 1)) }
        } while counts.reduce(0, +) > slots || counts.filter({ $0 == counts.max()! }).count > 1
        var tokens: [Int] = []
        for (token, count) in counts.enumerated() { tokens += Array(repeating: token, count: count) }
        tokens += Array(repeating: Self.nullToken, count: slots - tokens.count)
        tokens.shuffle(using: &generator)
        tokens.append(Self.endToken)
        return Trial(tokens: tokens, counts: counts, label: counts.firstIndex(of: counts.max()!)!)
    }

    /// A batch of trials as the network's input (each token held `tokenDuration` ms) and labels.
    public func batch(_ indices: Range<Int>, of split: Split, tokenDuration: Double = 6) throws(ODEError)
        -> (input: TokenSequenceInput, labels: [Int])
    {
        let trials = indices.map { trial($0, of: split) }
        let input = try TokenSequenceInput(
            vocabulary: vocabulary, channels: Self.channels, sequences: trials.map(\.tokens), tokenDuration: tokenDuration)
        return (input, trials.map(\.label))
    }
}
