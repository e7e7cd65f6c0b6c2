import Testing
@testable import Gradients

@Suite struct PeakMemoryTests {
    @Test func seesAFreshAllocationOf64MiB() throws {
        let bytes = 64 << 20
        let (sum, peak) = PeakMemory.measure { () -> Double in
            var buffer = [Double](repeating: 1, count: bytes / 8)
            buffer[bytes / 16] = 2
            return buffer.reduce(0, +)
        }
        #expect(sum == Double(bytes / 8) + 1)
        let measured = try #require(peak, "Linux exposes /proc/self/clear_refs")
        #expect(measured >= bytes * 9 / 10 && measured < bytes * 2, "measured \(measured)")
    }
}
