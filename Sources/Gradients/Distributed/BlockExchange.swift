/// Independent work items of one iteration spread over a ``Communicator``'s ranks: each rank
/// computes its block (``Communicator/block(of:)``) and one exchange gives every rank every
/// item's result, so all ranks continue from the same numbers.
///
/// An item's result is `width` numbers or a failure. On the wire (one `allgather`
/// of doubles per exchange) each rank sends ⌈count / R⌉ slots of `width + 1` doubles: the numbers,
/// then a flag (0 computed, 1 failed). Only when some item failed does a second allgather carry,
/// per rank, the description of its first failure (``messageBytes`` bytes of UTF-8), so a failed
/// item on another rank is reported with its own words.
///
/// This rank's own results come back exactly as computed (its errors keep their type); another
/// rank's failure comes back as ``TrainingError/failedOnRank(rank:reason:)``. With one process
/// nothing is copied or sent.
struct BlockExchange {
    /// Items in all.
    let count: Int
    /// The job's ranks.
    let communicator: any Communicator

    /// Bytes of the description of a rank's first failure (longer ones are cut).
    static let messageBytes = 240

    /// The items this rank computes.
    var block: Range<Int> { communicator.block(of: count) }

    /// Every item's result from this rank's `local` results (one per item of ``block``, `width`
    /// numbers each).
    func exchange(_ local: [Result<[Double], any Error>], width: Int) -> [Result<[Double], any Error>] {
        let size = communicator.size
        guard size > 1 else { return local }
        let slots = (count + size - 1) / size, stride = width + 1
        var send = [Double](repeating: 0, count: slots * stride)
        var firstFailure: String?
        for (slot, result) in local.enumerated() {
            switch result {
            case let .success(values):
                precondition(values.count == width, "an item's result has \(values.count) numbers, not \(width)")
                for i in 0..<width { send[slot * stride + i] = values[i] }
            case let .failure(error):
                send[slot * stride + width] = 1
                firstFailure = firstFailure ?? "\(error)"
            }
        }
        let gathered = communicator.allgather(send)
        var failed = false
        for rank in 0..<size {
            let owned = ProcessGroup.block(of: count, rank: rank, size: size)
            for slot in 0..<owned.count where gathered[(rank * slots + slot) * stride + width] != 0 { failed = true }
        }
        let messages = failed ? gatheredMessages(firstFailure) : []
        let mine = block
        var results: [Result<[Double], any Error>] = []
        results.reserveCapacity(count)
        for rank in 0..<size {
            let owned = ProcessGroup.block(of: count, rank: rank, size: size)
            for slot in 0..<owned.count {
                if owned.lowerBound + slot >= mine.lowerBound, owned.lowerBound + slot < mine.upperBound {
                    results.append(local[owned.lowerBound + slot - mine.lowerBound])
                    continue
                }
                let base = (rank * slots + slot) * stride
                if gathered[base + width] != 0 {
                    results.append(.failure(TrainingError.failedOnRank(rank: rank, reason: messages[rank])))
                } else {
                    results.append(.success(Array(gathered[base..<(base + width)])))
                }
            }
        }
        return results
    }

    /// Each rank's first-failure description, in rank order ("" where none failed).
    private func gatheredMessages(_ mine: String?) -> [String] {
        var text = mine ?? ""
        while text.utf8.count > Self.messageBytes { text.removeLast() }
        var bytes = [UInt8](repeating: 0, count: Self.messageBytes)
        bytes.replaceSubrange(0..<text.utf8.count, with: text.utf8)
        let gathered = communicator.allgather(bytes)
        return (0..<communicator.size).map { rank in
            let slice = gathered[(rank * Self.messageBytes)..<((rank + 1) * Self.messageBytes)]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
