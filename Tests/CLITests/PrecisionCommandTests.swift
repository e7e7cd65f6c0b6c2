import Foundation
import Testing

/// `--precision f32` as a user meets it: forward-only methods run and agree with float64; the
/// methods that differentiate the map refuse with one line naming the option.
@Suite("precision options")
struct PrecisionCommandTests {
    static let turnOff = ["turn-off", "--horizon", "200"]

    /// ES from the same noise: float32's loss within 1e-4 relative of float64's, the estimate within 1e-3.
    @Test func esGradientAgreesWithFloat64() throws {
        let double = try GradientJSON.parse(try CommandLineTool.gradient(
            Self.turnOff + ["--method", "es", "--samples", "10", "--format", "json"]).standardOutput)
        let single = try GradientJSON.parse(try CommandLineTool.gradient(
            Self.turnOff + ["--method", "es", "--samples", "10", "--precision", "f32", "--format", "json"]).standardOutput)
        #expect(abs(single.loss - double.loss) <= 1e-4 * abs(double.loss))
        let a = try #require(double.gradient["I"]), b = try #require(single.gradient["I"])
        #expect(abs(a - b) <= 1e-3 * abs(a), "f64 \(a), f32 \(b)")
    }

    @Test(arguments: [
        ["gradient"] + turnOff + ["--method", "bptt", "--precision", "f32"],
        ["compare", "turn-off", "--methods", "es,bptt", "--precision", "f32", "--iterations", "1"],
        ["simulate", "morris-lecar", "--integrator", "dopri5", "--precision", "f32"],
        ["simulate", "hodgkin-huxley", "--precision", "f32", "--t-end", "5"],
        ["gradient", "spiral", "--method", "es", "--precision", "f32"],
    ])
    func refusalsNameTheProblem(arguments: [String]) throws {
        let result = try CommandLineTool.run(arguments)
        #expect(result.status != 0)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("error:") && (lines[0].contains("precision") || lines[0].contains("float32")), "\(result.standardError)")
    }

    /// A float32 network simulation writes the same grid and spikes within 0.05 ms of float64's.
    @Test func simulateNetworkInFloat32() throws {
        let common = ["ml-network", "--neurons", "8", "--batch", "2", "--t-end", "100", "--spikes", "--format", "json"]
        let double = try CommandLineTool.run(["simulate"] + common)
        let single = try CommandLineTool.run(["simulate"] + common + ["--precision", "f32"])
        #expect(double.status == 0 && single.status == 0, "\(single.standardError)")
        func spikes(_ text: String) throws -> [[Double]] {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            return try #require(object["spikes"] as? [[Double]])
        }
        let a = try spikes(double.standardOutput), b = try spikes(single.standardOutput)
        #expect(a.map(\.count) == b.map(\.count))
        #expect(a.joined().count > 5)
        for (x, y) in zip(a.joined(), b.joined()) { #expect(abs(x - y) < 0.05) }
    }
}
