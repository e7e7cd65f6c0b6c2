/// A piecewise-constant input u(t) for a batch of independent trials, driving a network.
///
/// Every input in this project is held constant over segments (tokens held for a few ms), so the
/// protocol exposes that structure: a network reads the segment in force once per evaluation and
/// works on the cached segment matrix instead of sampling u(t) entry by entry. Values are a
/// `channels × batchSize` matrix, row-major: channel-major, trials contiguous, the same layout as
/// the network's state, so W_in·u for all trials is one matrix–matrix product.
public protocol InputSignal: Sendable {
    /// Dimension of u for one trial.
    var channels: Int { get }
    /// Number of independent trials.
    var batchSize: Int { get }
    /// Number of constant segments.
    var segmentCount: Int { get }
    /// The segment in force at time `t`, in `0..<segmentCount`: times before the first segment
    /// get the first, times after the last get the last (the input is held).
    func segmentIndex(at t: Double) -> Int
    /// Writes segment `index`'s `channels × batchSize` matrix into `values`.
    func writeSegment(_ index: Int, into values: UnsafeMutableBufferPointer<Double>)
}

/// An input whose every value is one of a few fixed vectors (tokens): u_b(t) is row
/// `token(segment:trial:)` of `vocabulary`.
///
/// A network can then form W_in times the vocabulary once per evaluation (N × K) and gather,
/// instead of multiplying W_in by the whole N × B input matrix: with K tokens and B trials, K ≪ B
/// makes the input term nearly free.
public protocol TokenInputSignal: InputSignal {
    /// The token vectors, `vocabularySize × channels`, row-major.
    var vocabulary: [Double] { get }
    /// Which token trial `trial` sees during segment `segment`.
    func token(segment: Int, trial: Int) -> Int
}

extension TokenInputSignal {
    /// The number of token vectors.
    public var vocabularySize: Int { channels == 0 ? 0 : vocabulary.count / channels }
}

extension InputSignal {
    /// Writes u(t) for every trial into `values` (`channels × batchSize`, row-major).
    public func writeValues(at t: Double, into values: UnsafeMutableBufferPointer<Double>) {
        writeSegment(segmentIndex(at: t), into: values)
    }

    /// All segments, one `channels × batchSize` matrix after another.
    public func segmentTable() -> [Double] {
        let size = channels * batchSize
        return [Double](unsafeUninitializedCapacity: size * segmentCount) { buffer, count in
            for k in 0..<segmentCount {
                writeSegment(k, into: UnsafeMutableBufferPointer(rebasing: buffer[(k * size)..<((k + 1) * size)]))
            }
            count = size * segmentCount
        }
    }
}

/// The same input vector for every trial, for all time.
public struct ConstantInput: TokenInputSignal {
    /// u for one trial, one entry per channel.
    public let values: [Double]
    /// The number of trials, each receiving the same `values`.
    public let batchSize: Int

    /// `values` is u for one trial (`channels` entries), repeated across `batchSize` trials.
    public init(values: [Double], batchSize: Int) throws(ODEError) {
        guard batchSize > 0 else { throw .dimensionMismatch(what: "batch size of a constant input", expected: 1, actual: batchSize) }
        self.values = values
        self.batchSize = batchSize
    }

    public var channels: Int { values.count }
    public var vocabulary: [Double] { values }
    public func token(segment: Int, trial: Int) -> Int { 0 }
    public var segmentCount: Int { 1 }
    public func segmentIndex(at t: Double) -> Int { 0 }

    public func writeSegment(_ index: Int, into out: UnsafeMutableBufferPointer<Double>) {
        for c in 0..<channels {
            for b in 0..<batchSize { out[c * batchSize + b] = values[c] }
        }
    }
}

/// A sequence of tokens per trial, each token held for `tokenDuration` ms starting at t = 0.
///
/// Tokens are indices into a vocabulary of vectors (`vocabulary`: `vocabularySize × channels`,
/// row-major); `sequences[b]` is trial b's token sequence. All trials have the same length, so
/// the segments (and their times) are shared; after the last token the last one is held.
public struct TokenSequenceInput: TokenInputSignal {
    public let vocabulary: [Double]
    public let channels: Int
    /// `sequences[b]` is trial b's token indices into `vocabulary`; all sequences have the same length.
    public let sequences: [[Int]]
    /// How long each token is held (ms).
    public let tokenDuration: Double

    /// Validates the shapes and token indices; throws ``ODEError`` naming the first bad value.
    public init(vocabulary: [Double], channels: Int, sequences: [[Int]], tokenDuration: Double) throws(ODEError) {
        guard channels > 0 else { throw .dimensionMismatch(what: "input channels", expected: 1, actual: channels) }
        guard !vocabulary.isEmpty, vocabulary.count % channels == 0 else {
            throw .dimensionMismatch(
                what: "token vocabulary (vocabularySize × \(channels) channels)",
                expected: max(1, vocabulary.count / channels) * channels, actual: vocabulary.count)
        }
        guard let length = sequences.first?.count, length > 0 else {
            throw .dimensionMismatch(what: "token sequences (at least one trial of one token)", expected: 1, actual: 0)
        }
        let vocabularySize = vocabulary.count / channels
        for (b, sequence) in sequences.enumerated() {
            guard sequence.count == length else {
                throw .dimensionMismatch(what: "token sequence of trial \(b)", expected: length, actual: sequence.count)
            }
            for token in sequence where !(0..<vocabularySize).contains(token) {
                throw .dimensionMismatch(what: "token index in trial \(b) (vocabulary size)", expected: vocabularySize, actual: token)
            }
        }
        guard tokenDuration.isFinite, tokenDuration > 0 else {
            throw .invalidParameter(name: "tokenDuration", value: tokenDuration, reason: "must be finite and positive")
        }
        self.vocabulary = vocabulary
        self.channels = channels
        self.sequences = sequences
        self.tokenDuration = tokenDuration
    }

    /// Random binary tokens (entries 0 or `amplitude`, each 1 with probability ½) and uniformly
    /// drawn sequences: the shape of the evidence task's input, for simulation and benchmarks.
    public static func random(
        channels: Int, vocabularySize: Int, length: Int, batchSize: Int, tokenDuration: Double,
        amplitude: Double = 0.2, seed: UInt64
    ) throws(ODEError) -> TokenSequenceInput {
        guard vocabularySize > 0 else { throw .dimensionMismatch(what: "vocabulary size", expected: 1, actual: vocabularySize) }
        var generator = SeededGenerator(seed: seed)
        let vocabulary = (0..<(vocabularySize * channels)).map { _ in generator.next() >> 63 == 1 ? amplitude : 0 }
        let sequences = (0..<batchSize).map { _ in
            (0..<length).map { _ in Int(generator.next(upperBound: UInt64(vocabularySize))) }
        }
        return try TokenSequenceInput(vocabulary: vocabulary, channels: channels, sequences: sequences, tokenDuration: tokenDuration)
    }

    public var batchSize: Int { sequences.count }
    public var segmentCount: Int { sequences[0].count }
    public func token(segment: Int, trial: Int) -> Int { sequences[trial][segment] }

    public func segmentIndex(at t: Double) -> Int {
        let k = (t / tokenDuration).rounded(.down)
        guard k > 0 else { return 0 }  // also maps NaN to the first segment
        return k >= Double(segmentCount - 1) ? segmentCount - 1 : Int(k)
    }

    public func writeSegment(_ index: Int, into out: UnsafeMutableBufferPointer<Double>) {
        let batch = batchSize
        for b in 0..<batch {
            let row = sequences[b][index] * channels
            for c in 0..<channels { out[c * batch + b] = vocabulary[row + c] }
        }
    }
}
