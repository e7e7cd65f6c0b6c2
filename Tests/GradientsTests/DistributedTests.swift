import Foundation
import Testing
@testable import Gradients

/// The distributed methods with R ranks as threads (``ThreadedRanks``) against the same method on
/// one process (``SingleProcess``): every rank's result equals the one-process result bit for bit
/// (README "Beyond one machine: MPI"). `mpirun` itself is exercised by CLITests' MPICommandTests.
@Suite struct DistributedTests {
    @Test func blocksCoverTheItemsInOrderAndDifferByAtMostOne() {
        for count in [0, 1, 7, 8, 101] {
            for size in 1...5 {
                let blocks = (0..<size).map { ProcessGroup.block(of: count, rank: $0, size: size) }
                #expect(blocks.flatMap { Array($0) } == Array(0..<count), "\(count) items, \(size) ranks")
                #expect(blocks.map(\.count).max()! - blocks.map(\.count).min()! <= 1)
            }
        }
    }

    /// The sum is taken in rank order: the same rounding for any R with the same terms, and on every rank.
    @Test func allreduceSumsInRankOrder() throws {
        let terms = [1e16, 1.0, -1e16, 1.0]
        let sums = try ThreadedRanks.run(ranks: 4) { world in world.allreduceSum([terms[world.rank], Double(world.rank)]) }
        let expected = [((1e16 + 1.0) + -1e16) + 1.0, 6.0]
        #expect(sums.allSatisfy { $0 == expected })
        #expect(SingleProcess().allreduceSum([3, 4]) == [3, 4])
    }

    @Test(arguments: [EvolutionStrategy.Sampling.mirrored, .plain], [false, true])
    func evolutionStrategyIsBitIdenticalOverRanks(sampling: EvolutionStrategy.Sampling, rankShaping: Bool) throws {
        let objective = Quadratic(curvature: [1, 2, 3, 4, 5, 6, 7])
        let theta = [0.3, -0.2, 1.1, 0.5, -0.7, 0.9, 0.05]
        let one = try EvolutionStrategy(
            samples: 14, sigma: 0.2, sampling: sampling, rankShaping: rankShaping, seed: 3, threads: 2, communicator: SingleProcess())
            .estimate(objective: objective, at: theta, iteration: 5)
        for ranks in 1...4 {
            let estimates = try ThreadedRanks.run(ranks: ranks) { world in
                try EvolutionStrategy(
                    samples: 14, sigma: 0.2, sampling: sampling, rankShaping: rankShaping, seed: 3, threads: 1, communicator: world)
                    .estimate(objective: objective, at: theta, iteration: 5)
            }
            for estimate in estimates {
                #expect(estimate.gradient == one.gradient, "R = \(ranks)")
                #expect(estimate.loss == one.loss)
                #expect(estimate.report.forwardSolves == one.report.forwardSolves)
            }
        }
    }

    /// A sample that fails on another rank counts as a failed sample there and everywhere, with its
    /// rank's words; too many failures fail the estimate on every rank alike.
    @Test func failedSamplesOnOtherRanksCountAsFailedSamples() throws {
        let theta = [0.0, 0.5, -0.5]
        let limit = 0.15
        let one = try EvolutionStrategy(samples: 40, sigma: 0.3, seed: 1, threads: 1, communicator: SingleProcess())
            .estimate(objective: Fragile(limit: limit), at: theta, iteration: 0)
        #expect(one.report.failedSamples > 0 && one.report.failedSamples * 2 <= 40)
        let estimates = try ThreadedRanks.run(ranks: 3) { world in
            try EvolutionStrategy(samples: 40, sigma: 0.3, seed: 1, threads: 1, communicator: world)
                .estimate(objective: Fragile(limit: limit), at: theta, iteration: 0)
        }
        for estimate in estimates {
            #expect(estimate.gradient == one.gradient)
            #expect(estimate.report.failedSamples == one.report.failedSamples)
        }

        @Sendable func failure(_ world: any Communicator) -> String {
            do {
                _ = try EvolutionStrategy(samples: 40, sigma: 0.3, seed: 1, threads: 1, communicator: world)
                    .estimate(objective: Fragile(limit: -1), at: [0, 0, 0], iteration: 0)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        let alone = failure(SingleProcess())
        #expect(alone == "40 of 40 ES samples failed to simulate (first: Blowup())")
        let failures = try ThreadedRanks.run(ranks: 3) { failure($0) }
        // Rank 0 evaluated the first failed sample and reports as one process does; the others
        // name rank 0.
        #expect(failures[0] == alone)
        #expect(failures[1] == "40 of 40 ES samples failed to simulate (first: on rank 0: Blowup())")
        #expect(failures[2] == failures[1])
    }

    @Test func cmaesEvaluatesThePopulationOverRanks() throws {
        let candidates = (0..<9).map { k in [0.1 * Double(k) - 0.3, 1.0, -0.5] }
        let one = CMAES(threads: 2, communicator: SingleProcess()).evaluate(Fragile(limit: 0.25), candidates)
        #expect(one.losses.filter(\.isInfinite).count == 3)
        let evaluations = try ThreadedRanks.run(ranks: 4) { world in
            let result = CMAES(threads: 1, communicator: world).evaluate(Fragile(limit: 0.25), candidates)
            return (result.losses, result.firstError)
        }
        for (losses, firstError) in evaluations {
            #expect(losses == one.losses)
            #expect(firstError?.contains("Blowup") == true)
        }
    }

    /// The landscape scan calls its methods concurrently, which ranks sharing collectives cannot
    /// follow: it refuses such a method before computing anything.
    @Test func theLandscapeRefusesMethodsSharedAmongRanks() throws {
        let refusals = try ThreadedRanks.run(ranks: 2) { world -> [String] in
            [EvolutionStrategy(communicator: world) as any GradientMethod, BackpropagationThroughTime(communicator: world)].map { method in
                do {
                    _ = try LossLandscape(values: [1, 2], sigma: 0.1, nodes: 3, methods: [method])
                    return "accepted"
                } catch {
                    return "\(error)"
                }
            }
        }
        for refusal in refusals.joined() {
            #expect(refusal.contains("shares its work among 2 MPI ranks"), "\(refusal)")
        }
        _ = try LossLandscape(values: [1, 2], sigma: 0.1, nodes: 3, methods: [EvolutionStrategy(communicator: SingleProcess())])
    }
}
