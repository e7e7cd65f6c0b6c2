import Foundation

/// A fast, seedable random number generator: xoshiro256** (Blackman & Vigna) with its 256-bit state
/// filled by SplitMix64, as its authors recommend.
///
/// Reproducibility is the point: the same seed gives the same sequence on every platform and for
/// every thread count. ``init(seed:stream:)`` derives independent streams from a seed and a path of
/// integers (say an ES iteration and a sample index), so a noise vector can be regenerated from
/// (seed, iteration, index) alone, whichever thread first drew it.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64
    /// The second normal deviate of the last polar-method pair, handed out by the next call.
    private var spareGaussian: Double?

    /// A generator seeded by one integer.
    public init(seed: UInt64) {
        var mixer = SplitMix64(state: seed)
        s0 = mixer.next(); s1 = mixer.next(); s2 = mixer.next(); s3 = mixer.next()
        // SplitMix64 cannot return four zeros in a row, but keep xoshiro's one forbidden state out.
        if s0 | s1 | s2 | s3 == 0 { s0 = 0x9E37_79B9_7F4A_7C15 }
    }

    /// A generator for one stream below `seed`: `stream` is a path such as (iteration, sample).
    /// Each component is folded in through a SplitMix64 finaliser, so nearby paths ((0, 1) and
    /// (1, 0), say) give unrelated states.
    public init(seed: UInt64, stream: UInt64...) {
        self.init(seed: seed, streamPath: stream)
    }

    /// ``init(seed:stream:)`` with the path as an array.
    public init(seed: UInt64, streamPath: [UInt64]) {
        var key = SplitMix64.mix(seed)
        for (depth, component) in streamPath.enumerated() {
            key = SplitMix64.mix(key ^ SplitMix64.mix(component &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(depth + 1)))
        }
        self.init(seed: key)
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform double in `range` (lower bound included, upper excluded).
    public mutating func nextUniform(in range: Range<Double>) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * nextUnitInterval()
    }

    /// A standard normal deviate, by Marsaglia's polar method (no trigonometric calls; pairs are
    /// produced, the second one kept for the next call).
    public mutating func nextGaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        while true {
            let u = 2 * nextUnitInterval() - 1
            let v = 2 * nextUnitInterval() - 1
            let s = u * u + v * v
            if s > 0, s < 1 {
                let factor = (-2 * log(s) / s).squareRoot()
                spareGaussian = v * factor
                return u * factor
            }
        }
    }

    /// A normal deviate with the given mean and standard deviation.
    public mutating func nextGaussian(mean: Double, standardDeviation: Double) -> Double {
        mean + standardDeviation * nextGaussian()
    }

    @inline(__always)
    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}

/// SplitMix64 (Steele, Lea & Flood): seeds xoshiro's state and mixes stream keys.
private struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }

    /// The SplitMix64 output finaliser, a bijection with good avalanche.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
