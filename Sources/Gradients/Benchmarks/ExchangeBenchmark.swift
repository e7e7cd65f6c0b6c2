import Dispatch

/// The network cost of one distributed ES iteration (README "Beyond one machine: MPI"): the very
/// exchange ``EvolutionStrategy`` makes (a ``BlockExchange`` of S + 1 probes, each its loss, its
/// right-hand-side count and a failure flag), with no simulation, timed `repeats` times.
public struct ExchangeBenchmark: Sendable {
    /// S, the ES samples of an iteration (S + 1 probes with θ itself).
    public var samples: Int
    /// Exchanges timed; the median is reported.
    public var repeats: Int

    /// A benchmark of `repeats` exchanges of S = `samples`.
    public init(samples: Int = 100, repeats: Int = 1000) {
        self.samples = samples
        self.repeats = max(1, repeats)
    }

    /// What one exchange costs.
    public struct Run: Sendable {
        /// Bytes each rank sends: ⌈(S + 1)/R⌉ probes × 3 doubles.
        public var bytesSentPerRank: Int
        /// Bytes each rank receives (its own block included): R × the above.
        public var bytesGathered: Int
        /// Each rank's median seconds of one exchange, averaged over the ranks.
        public var medianSeconds: Double
    }

    /// Times the exchanges among `communicator`'s ranks (every rank must run it).
    public func run(communicator: any Communicator) -> Run {
        let probes = samples + 1
        let exchange = BlockExchange(count: probes, communicator: communicator)
        let local = exchange.block.map { probe -> Result<[Double], any Error> in .success([Double(probe), 0]) }
        var times: [Double] = []
        times.reserveCapacity(repeats)
        communicator.barrier()
        for _ in 0..<repeats {
            let clock = DispatchTime.now().uptimeNanoseconds
            _ = exchange.exchange(local, width: 2)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9)
        }
        let slots = (probes + communicator.size - 1) / communicator.size
        let sent = slots * 3 * MemoryLayout<Double>.stride
        let median = times.sorted()[times.count / 2]
        let mean = communicator.allreduceSum([median])[0] / Double(communicator.size)
        return Run(bytesSentPerRank: sent, bytesGathered: sent * communicator.size, medianSeconds: mean)
    }
}
