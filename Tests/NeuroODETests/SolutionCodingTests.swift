import Foundation
import Testing
@testable import NeuroODE

/// `Solution` as a stored value: a JSON round trip gives back every field bit for bit, states are
/// found by name, and a file whose arrays do not fit is refused naming the field.
@Suite struct SolutionCodingTests {
    /// LIF driven above threshold for 150 ms: output samples, spike times and reset events.
    static func solution() throws -> Solution {
        let system = LeakyIntegrateAndFire()
        let problem = try ODEProblem(system: system, timeSpan: (0, 150))
        return try Leapfrog(stepSize: 0.1).solve(problem, output: .everyStep(10), spikes: SpikeDetection(threshold: -55))
    }

    @Test func jsonRoundTripIsExact() throws {
        let solution = try Self.solution()
        #expect(!solution.events.isEmpty && !solution.times.isEmpty)
        let decoded = try JSONDecoder().decode(Solution.self, from: JSONEncoder().encode(solution))
        #expect(decoded.dimension == solution.dimension)
        #expect(decoded.stateNames == solution.stateNames)
        for (a, b) in [(decoded.times, solution.times), (decoded.states, solution.states), (decoded.integrals, solution.integrals),
                       (decoded.finalState, solution.finalState), (decoded.spikeTimes.flatMap { $0 }, solution.spikeTimes.flatMap { $0 })] {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        }
        #expect(decoded.spikeVariables == solution.spikeVariables)
        #expect(decoded.events == solution.events)
        #expect(decoded.finalTime.bitPattern == solution.finalTime.bitPattern)
        #expect(decoded.statistics == solution.statistics)
    }

    /// `solution["V"]` is the model's V column; a name the model lacks gives nil.
    @Test func statesByName() throws {
        let solution = try Self.solution()
        #expect(solution.stateNames == LeakyIntegrateAndFire().stateNames)
        let name = try #require(solution.stateNames.first)
        #expect(solution[name] == solution.component(0))
        #expect(solution["no-such-state"] == nil)
    }

    @Test(arguments: [
        ("states", #""states":["#, #""states":[1,"#),
        ("stateNames", #""stateNames":["#, #""stateNames":["extra","#),
        ("finalState", #""finalState":["#, #""finalState":[1,"#),
    ])
    func inconsistentFileIsRefusedNamingTheField(field: String, find: String, replace: String) throws {
        let text = String(decoding: try JSONEncoder().encode(try Self.solution()), as: UTF8.self)
        #expect(text.contains(find))
        let edited = Data(text.replacingOccurrences(of: find, with: replace).utf8)
        #expect {
            try JSONDecoder().decode(Solution.self, from: edited)
        } throws: { error in
            guard case let DecodingError.dataCorrupted(context) = error else { return false }
            return context.codingPath.last?.stringValue == field && context.debugDescription.hasPrefix(field)
        }
    }
}
