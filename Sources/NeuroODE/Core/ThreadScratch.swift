#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread scratch memory for evaluations whose work buffers are too large for the stack (a
/// neural ODE's layer activations over a batch of copies, say), so that right-hand sides called
/// thousands of times per solve allocate nothing after their first call on a thread.
///
/// Each thread owns an arena of blocks that only grows; requests are served last-in first-out, so
/// nested calls (a pullback that runs a forward pass) nest their buffers. Memory returns to the
/// system when the thread exits. Threads never share an arena, so concurrent solves (ES samples,
/// batch parts) need no locking.
public enum ThreadScratch {
    private final class Arena {
        var blocks: [(pointer: UnsafeMutableRawPointer, capacity: Int)] = []
        var block = 0
        var offset = 0

        deinit { for block in blocks { block.pointer.deallocate() } }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { arena in
            if let arena { Unmanaged<AnyObject>.fromOpaque(arena).release() }
        }
        return key
    }()

    private static var arena: Arena {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<AnyObject>.fromOpaque(existing).takeUnretainedValue() as! Arena
        }
        let arena = Arena()
        pthread_setspecific(key, Unmanaged<AnyObject>.passRetained(arena).toOpaque())
        return arena
    }

    /// Calls `body` with `count` uninitialised doubles of this thread's arena, 64-byte aligned,
    /// valid until `body` returns.
    public static func withDoubles<R>(_ count: Int, _ body: (UnsafeMutablePointer<Double>) throws -> R) rethrows -> R {
        let arena = self.arena
        let bytes = (max(count, 1) * MemoryLayout<Double>.stride + 63) & ~63
        let savedBlock = arena.block, savedOffset = arena.offset
        defer {
            arena.block = savedBlock
            arena.offset = savedOffset
        }
        var block = arena.block, offset = arena.offset
        while true {
            if block == arena.blocks.count {
                let capacity = max(bytes, 2 * (arena.blocks.last?.capacity ?? 32_768))
                arena.blocks.append((UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64), capacity))
            }
            if arena.blocks[block].capacity - offset >= bytes { break }
            block += 1
            offset = 0
        }
        arena.block = block
        arena.offset = offset + bytes
        let pointer = (arena.blocks[block].pointer + offset).bindMemory(to: Double.self, capacity: count)
        return try body(pointer)
    }
}
