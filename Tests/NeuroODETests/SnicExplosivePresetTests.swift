import Foundation
import Testing
@testable import NeuroODE

/// The `snicExplosive` preset (SPEC's evidence case B) against its SciPy scan
/// (Validation/explosive_network_phi.py): it is the `snic` neuron with the largest φ on the scan's
/// grid that fires tonically across the network's operating currents, and the leapfrog the
/// network uses (dt = 0.1) reproduces that.
@Suite struct SnicExplosivePresetTests {
    typealias Support = LeapfrogModelsTestSupport

    struct Scan: Decodable {
        struct Point: Decodable {
            var current: Double
            var lateSpikeCount: Int
            var meanIntervalMs: Double?
            var tonic: Bool
        }
        struct Row: Decodable {
            var factor: Double
            var phi: Double
            var currents: [Point]
            var tonicEverywhere: Bool
        }
        var initialState: [Double]
        var window: [Double]
        var currents: [Double]
        var scan: [Row]
        var chosenFactor: Double
        var chosenPhi: Double
        var chosenTonicUpperCurrentBracket: [Double]
        var paperFactor10LateSpikeCounts: [Int]
    }

    /// Spikes (upward crossings of 0 mV) after the transient, with the leapfrog at dt = 0.1.
    static func lateSpikes(phi: Double, current: Double, scan: Scan) throws -> [Double] {
        let system = MorrisLecar(preset: .snicExplosive, current: current)
        var p = system.defaultParameters
        p[11] = phi
        let problem = try ODEProblem(system: system, initialState: scan.initialState, parameters: p, timeSpan: (0, scan.window[1]))
        let solution = try Leapfrog(stepSize: 0.1).solve(problem, output: .finalState, spikes: SpikeDetection(threshold: 0))
        return solution.spikeTimes[0].filter { $0 > scan.window[0] }
    }

    @Test func isSnicWithTheScansPhi() throws {
        let scan: Scan = try Support.reference("explosive_network_phi")
        #expect(abs(MorrisLecar.snicExplosivePhi - scan.chosenPhi) <= 1e-15)
        #expect(scan.chosenFactor == 2)
        let snic = MorrisLecar(preset: .snic).defaultParameters, fast = MorrisLecar(preset: .snicExplosive).defaultParameters
        for k in snic.indices where k != 11 { #expect(snic[k] == fast[k], "\(MorrisLecar.parameterNames[k])") }
        #expect(fast[11] == MorrisLecar.snicExplosivePhi)
        // The choice is the largest tonic grid value, and no larger one is tonic everywhere.
        let tonic = scan.scan.filter(\.tonicEverywhere).map(\.factor)
        #expect(tonic.max() == scan.chosenFactor)
        #expect(scan.scan.contains { $0.factor > scan.chosenFactor })
        #expect(scan.paperFactor10LateSpikeCounts.allSatisfy { $0 == 0 })
        #expect(MorrisLecar.Preset(rawValue: "snic-explosive") == .snicExplosive)
    }

    /// Tonic at every operating current with the network's integrator, at SciPy's rate within
    /// 3 %, and faster than `snic` at the same current.
    @Test func firesTonicallyAndFasterAcrossTheOperatingCurrents() throws {
        let scan: Scan = try Support.reference("explosive_network_phi")
        let chosen = try #require(scan.scan.first { $0.factor == scan.chosenFactor })
        let snic = try #require(scan.scan.first { $0.factor == 1 })
        for (point, slow) in zip(chosen.currents, snic.currents) {
            let late = try Self.lateSpikes(phi: MorrisLecar.snicExplosivePhi, current: point.current, scan: scan)
            try #require(late.count >= 10, "I = \(point.current): \(late.count) late spikes")
            let interval = (late.last! - late.first!) / Double(late.count - 1)
            #expect(scan.window[1] - late.last! < 2 * interval, "I = \(point.current): spiking lasts to the end")
            let expected = try #require(point.meanIntervalMs)
            #expect(abs(interval / expected - 1) <= 0.03, "I = \(point.current): interval \(interval) vs SciPy \(expected)")
            #expect(interval < 0.9 * (try #require(slow.meanIntervalMs)), "I = \(point.current): faster than snic")
        }
    }

    /// Past the edges SciPy found the leapfrog neuron stops firing too: above the top of the tonic
    /// range (depolarization block) and at the paper's φ × 10.
    @Test func silentBeyondTheEdges() throws {
        let scan: Scan = try Support.reference("explosive_network_phi")
        let blocked = try Self.lateSpikes(
            phi: MorrisLecar.snicExplosivePhi, current: scan.chosenTonicUpperCurrentBracket[1] + 2, scan: scan)
        #expect(blocked.isEmpty, "\(blocked.count) spikes above the block")
        for current in scan.currents {
            #expect(try Self.lateSpikes(phi: 10 * 2.0 / 30.0, current: current, scan: scan).isEmpty, "φ × 10 at I = \(current)")
        }
    }
}
