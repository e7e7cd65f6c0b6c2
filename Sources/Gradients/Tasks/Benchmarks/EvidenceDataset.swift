import NeuroODE

/// SCIENCE.md's evidence-integration data: 50 tokens per trial, 49 drawn from {e1, e2, e3, null} and an
/// end token. Each of the five tokens is a fixed random binary vector of dimension 50 with entries
/// 0 or 0.2 (each 0.2 with probability ½). Evidence counts (c1, c2, c3) are drawn uniformly over
/// the triples with c1 + c2 + c3 ≤ 49 whose maximum is unique (ties rejected), the rest is null,
/// the 49 tokens are shuffled, and the label is the most frequent evidence.
///
/// Everything derives from one seed: the vocabulary from stream 0, and each trial from a stream of
/// its own, (split, index), so the training and test sets are disjoint streams and a trial can be
/// regenerated alone.
public struct EvidenceDataset: Sendable {
    /// Tokens per trial: 49 evidence or null tokens and the end token.
    public static let tokenCount = 50
    /// The dimension of every token vector (the network's input dimension M).
    public static let channels = 50
    /// Token indices in the vocabulary.
    public static let evidenceTokens = [0, 1, 2], nullToken = 3, endToken = 4

    /// The two disjoint trial streams; the raw value is the stream's seed offset.
    public enum Split: UInt64, Sendable { case training = 1, test = 2 }

    /// One trial: its token sequence, evidence counts and label (0, 1 or 2).
    public struct Trial: Sendable, Equatable {
        /// The 50 token indices: 49 shuffled evidence/null tokens, then the end token.
        public var tokens: [Int]
        /// (c1, c2, c3), how often each evidence token occurs; the maximum is unique.
        public var counts: [Int]
        /// The index (0, 1 or 2) of the most frequent evidence token.
        public var label: Int
    }

    /// The seed every vocabulary entry and trial derives from.
    public let seed: UInt64
    /// The non-zero value of the binary token vectors.
    public let amplitude: Double
    /// 5 × 50 row-major token vectors.
    public let vocabulary: [Double]

    /// The dataset of `seed`; draws the vocabulary (entries 0 or `amplitude`, each with probability ½).
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
