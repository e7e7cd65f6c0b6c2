import Foundation
import Testing
@testable import Gradients
import NeuroODE

/// f(θ) = Σᵢ cᵢθᵢ⁴ + ½Σᵢ dᵢθᵢ² + θ₀θ₃. Its Gaussian smoothing over the entries in a set P (the
/// others fixed) has the closed-form gradient, for i ∈ P,
///     ∂ᵢ E[f(θ + σε_P)] = 4cᵢ(θᵢ³ + 3σ²θᵢ) + dᵢθᵢ + [i = 0]θ₃ + [i = 3]θ₀,
/// since E[(θ + σε)³] = θ³ + 3σ²θ and the cross term is linear in each factor.
private struct SmoothedPolynomial: Objective {
    var quartic: [Double]
    var quadratic: [Double]
    var parameterCount: Int { quartic.count }

    func loss(at x: [Double]) throws -> Double {
        var value = x[0] * x[3]
        for i in x.indices { value += quartic[i] * pow(x[i], 4) + 0.5 * quadratic[i] * x[i] * x[i] }
        return value
    }

    func smoothedGradient(at x: [Double], sigma: Double, entry i: Int) -> Double {
        4 * quartic[i] * (x[i] * x[i] * x[i] + 3 * sigma * sigma * x[i]) + quadratic[i] * x[i]
            + (i == 0 ? x[3] : 0) + (i == 3 ? x[0] : 0)
    }
}

@Suite("hybrid evolution strategy")
struct HybridEvolutionStrategyTests {
    /// The evidence problem of ``EvidenceTaskTests`` (3 neurons, batch 4, 25 ms).
    static let problem = try! EvidenceTaskTests.problem()
    static let evolution = EvolutionStrategy(samples: 4, sigma: 0.1, seed: 5, threads: 2)

    static func group(_ name: String) throws -> Range<Int> {
        try #require(problem.parameterGroups().first { $0.name == name }).range
    }

    @Test func evidenceGroupsAreTheFourWeightBlocks() throws {
        let groups = try Self.problem.parameterGroups()
        #expect(groups.map(\.name) == ["W_in", "W_rec", "W_out", "b_out"])
        #expect(groups.map(\.range) == [0..<150, 150..<159, 159..<168, 168..<171])
        #expect(groups.map(\.belongsToLoss) == [false, false, true, true])
        #expect(throws: TrainingError.invalidOption(name: "parameter group", value: "a", reason: "its entries are not contiguous in θ")) {
            try ParameterGroup.partition(names: ["a[0]", "b", "a[1]"], lossStart: 3)
        }
        #expect(throws: TrainingError.invalidOption(name: "parameter group", value: "a", reason: "it holds both system and loss parameters")) {
            try ParameterGroup.partition(names: ["a[0]", "a[1]"], lossStart: 1)
        }
    }

    /// The hybrid's exact part is BPTT's gradient for the readout groups (the loss's own
    /// parameters need no backpropagation through time), to rounding.
    @Test func exactPartEqualsBPTTForTheReadoutGroups() throws {
        let task = try Self.problem.task(iteration: 0, seed: 7)
        let theta = try Self.problem.initialParameters(seed: 7)
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let hybrid = try HybridEvolutionStrategy(evolution: Self.evolution, perturbed: ["W_in", "W_rec"], exact: ["W_out", "b_out"])
            .estimate(task, at: theta, iteration: 0)
        #expect(abs(hybrid.loss - bptt.loss) <= 1e-12 * abs(bptt.loss))
        let readout = try Self.group("W_out").lowerBound..<theta.count
        let scale = readout.map { abs(bptt.gradient[$0]) }.max()!
        #expect(scale > 1e-3, "the readout gradient is not trivially zero")
        for i in readout {
            #expect(abs(hybrid.gradient[i] - bptt.gradient[i]) <= 1e-10 * scale, "entry \(i)")
        }
        #expect(hybrid.updatedEntries == [0..<150, 150..<159, 159..<168, 168..<171])
        #expect(hybrid.report.forwardSolves == 1 + 4, "the forward pass at θ doubles as ES's centre")
    }

    /// The readout-only baseline: BPTT's gradient on W_out, b_out, exactly zero elsewhere, from
    /// one forward pass, updating only the readout.
    @Test func readoutOnlyEqualsBPTTOnTheReadoutAndIsZeroElsewhere() throws {
        let task = try Self.problem.task(iteration: 2, seed: 7)
        let theta = try Self.problem.initialParameters(seed: 7)
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 2)
        let method = HybridEvolutionStrategy(evolution: Self.evolution, perturbed: [], exact: ["W_out", "b_out"])
        #expect(method.name == "readout")
        let readout = try method.estimate(task, at: theta, iteration: 2)
        let start = try Self.group("W_out").lowerBound
        let scale = (start..<theta.count).map { abs(bptt.gradient[$0]) }.max()!
        for i in theta.indices {
            if i < start {
                #expect(readout.gradient[i] == 0)
            } else {
                #expect(abs(readout.gradient[i] - bptt.gradient[i]) <= 1e-10 * scale)
            }
        }
        #expect(readout.updatedEntries == [159..<168, 168..<171])
        #expect(readout.report.forwardSolves == 1)
        #expect(readout.report.vectorJacobianProducts == 0)
    }

    /// With every group perturbed jointly and none exact it is ES on θ, bit for bit, for each
    /// sampling with and without ranks (its forward pass at θ is ES's centre).
    @Test(arguments: EvolutionStrategy.Sampling.allCases, [false, true])
    func everyGroupPerturbedIsES(sampling: EvolutionStrategy.Sampling, ranks: Bool) throws {
        let task = try Self.problem.task(iteration: 1, seed: 7)
        let theta = try Self.problem.initialParameters(seed: 7)
        let evolution = EvolutionStrategy(samples: 4, sigma: 0.1, sampling: sampling, rankShaping: ranks, seed: 5, threads: 2)
        let es = try evolution.estimate(task, at: theta, iteration: 1)
        let grouped = try HybridEvolutionStrategy(evolution: evolution, perturbed: ["W_in", "W_rec", "W_out", "b_out"], exact: [])
            .estimate(task, at: theta, iteration: 1)
        #expect(grouped.loss.bitPattern == es.loss.bitPattern)
        #expect(grouped.gradient.map(\.bitPattern) == es.gradient.map(\.bitPattern))
        #expect(grouped.report.forwardSolves == es.report.forwardSolves)
    }

    /// The ES part estimates the gradient of the loss smoothed over the perturbed entries only:
    /// on a quadratic that is the gradient itself, on a quartic the closed form above, which
    /// differs from the unsmoothed gradient by 12cσ²θ. 2000 estimates of S = 20 samples at
    /// σ = 0.3, entries {0, 1} of 4 perturbed (θ₂, θ₃ fixed): each mean lies within 4 standard
    /// errors of the closed form; entries outside the perturbed set are exactly zero.
    @Test(arguments: EvolutionStrategy.Sampling.allCases, [false, true])
    func esPartIsUnbiasedForTheSmoothedLoss(sampling: EvolutionStrategy.Sampling, quartic: Bool) throws {
        let objective = SmoothedPolynomial(quartic: quartic ? [1, 0.5, 2, 1] : [0, 0, 0, 0], quadratic: [1, 2, 3, 4])
        let theta = [1.0, -0.8, 0.5, 0.7], sigma = 0.3, repeats = 2000
        let method = HybridEvolutionStrategy(
            evolution: EvolutionStrategy(samples: 20, sigma: sigma, sampling: sampling, seed: 11, threads: 2), perturbed: ["p"], exact: [])
        var sum = [0.0, 0], sumSquares = [0.0, 0]
        for iteration in 0..<repeats {
            let g = try method.perturbedEstimate(objective: objective, at: theta, ranges: [0..<2], iteration: iteration, center: nil).gradient
            #expect(g[2] == 0 && g[3] == 0)
            for i in 0..<2 {
                sum[i] += g[i]
                sumSquares[i] += g[i] * g[i]
            }
        }
        for i in 0..<2 {
            let mean = sum[i] / Double(repeats)
            let standardError = (sumSquares[i] / Double(repeats) - mean * mean).squareRoot() / Double(repeats).squareRoot()
            let expected = objective.smoothedGradient(at: theta, sigma: sigma, entry: i)
            #expect(abs(mean - expected) < 4 * standardError, "entry \(i): mean \(mean), expected \(expected), se \(standardError)")
            if quartic {
                let raw = objective.smoothedGradient(at: theta, sigma: 0, entry: i)
                #expect(abs(mean - raw) > 4 * standardError, "entry \(i): the estimate is of the smoothed loss, not of L itself")
            }
        }
    }

    /// Alternation perturbs perturbed[k mod 2] at iteration k, in the listed order; a frozen
    /// group keeps its turn, on which only the readout is computed and updated.
    @Test func alternationCyclesInTheListedOrder() throws {
        let theta = try Self.problem.initialParameters(seed: 7)
        let input = try Self.group("W_in"), recurrent = try Self.group("W_rec"), readout = try Self.group("W_out").lowerBound..<171
        let method = HybridEvolutionStrategy(
            evolution: Self.evolution, perturbed: ["W_rec", "W_in"], exact: ["W_out", "b_out"], alternates: true)
        #expect((0..<5).map { method.perturbedGroups(iteration: $0) } == [["W_rec"], ["W_in"], ["W_rec"], ["W_in"], ["W_rec"]])
        for iteration in 0..<4 {
            let estimate = try method.estimate(Self.problem.task(iteration: iteration, seed: 7), at: theta, iteration: iteration)
            let (on, off) = iteration % 2 == 0 ? (recurrent, input) : (input, recurrent)
            #expect(on.contains { estimate.gradient[$0] != 0 })
            #expect(off.allSatisfy { estimate.gradient[$0] == 0 })
            #expect(estimate.updatedEntries == [on, 159..<168, 168..<171])
            #expect(readout.contains { estimate.gradient[$0] != 0 })
        }
        var frozen = method
        frozen.frozen = ["W_rec"]
        #expect((0..<4).map { frozen.perturbedGroups(iteration: $0) } == [[], ["W_in"], [], ["W_in"]])
        let idle = try frozen.estimate(Self.problem.task(iteration: 0, seed: 7), at: theta, iteration: 0)
        #expect(idle.report.forwardSolves == 1)
        #expect(idle.updatedEntries == [159..<168, 168..<171])
        #expect((0..<readout.lowerBound).allSatisfy { idle.gradient[$0] == 0 })
    }

    @Test func badGroupingsAreNamed() throws {
        let groups = try Self.problem.parameterGroups()
        func check(_ method: HybridEvolutionStrategy, _ error: TrainingError) {
            #expect(throws: error) { try method.validate(groups: groups) }
        }
        check(HybridEvolutionStrategy(evolution: Self.evolution, perturbed: ["W_x"], exact: []),
              .invalidOption(name: "parameter group", value: "W_x", reason: "unknown; the groups are W_in, W_rec, W_out, b_out"))
        check(HybridEvolutionStrategy(evolution: Self.evolution, perturbed: ["W_in"], exact: ["W_rec"]),
              .invalidOption(name: "exact group", value: "W_rec", reason: "it is not a parameter of the loss, so its exact gradient needs backpropagation through time; perturb or freeze it"))
        check(HybridEvolutionStrategy(evolution: Self.evolution, perturbed: ["W_in"], exact: ["W_in"]),
              .invalidOption(name: "parameter group", value: "W_in", reason: "listed twice (perturbed and exact groups are disjoint)"))
        check(HybridEvolutionStrategy(evolution: Self.evolution, perturbed: ["W_in"], exact: [], frozen: ["W_in"]),
              .invalidOption(name: "parameter groups", value: "none", reason: "no group is trained"))
        check(HybridEvolutionStrategy(evolution: Self.evolution, perturbed: ["W_in"], exact: [], frozen: ["W_rec"]),
              .invalidOption(name: "frozen group", value: "W_rec", reason: "only a perturbed group keeps a (frozen) turn in the cycle; leave it out instead"))
    }

    /// The variants `compare`/`train` expose (README "ES variants").
    static let variants: [(String, HybridEvolutionStrategy)] = {
        let plain = EvolutionStrategy(samples: 4, sigma: 0.1, sampling: .plain, seed: 5, threads: 2)
        let ranked = EvolutionStrategy(samples: 4, sigma: 0.1, rankShaping: true, seed: 5, threads: 2)
        let readout = ["W_out", "b_out"], hidden = ["W_in", "W_rec"]
        return [
            ("hybrid", HybridEvolutionStrategy(evolution: evolution, perturbed: hidden, exact: readout)),
            ("hybrid alternating", HybridEvolutionStrategy(evolution: evolution, perturbed: hidden, exact: readout, alternates: true)),
            ("hybrid alternating plain", HybridEvolutionStrategy(evolution: plain, perturbed: hidden, exact: readout, alternates: true)),
            ("hybrid alternating ranks", HybridEvolutionStrategy(evolution: ranked, perturbed: hidden, exact: readout, alternates: true)),
            ("authors: W_rec frozen", HybridEvolutionStrategy(evolution: plain, perturbed: hidden, exact: readout, frozen: ["W_rec"], alternates: true)),
            ("readout", HybridEvolutionStrategy(evolution: evolution, perturbed: [], exact: readout)),
            ("hidden by ES, readout frozen", HybridEvolutionStrategy(evolution: evolution, perturbed: hidden, exact: [], alternates: true)),
        ]
    }()

    /// Training with each variant: frozen groups never change, not even under AdamW's decay;
    /// trained ones do. A run stopped after 3 iterations (mid-cycle) and resumed from its
    /// checkpoint equals the uninterrupted 5-iteration run bit for bit.
    @Test(arguments: 0..<7) func frozenGroupsStayAndResumeIsBitIdentical(variant: Int) throws {
        let (label, method) = Self.variants[variant]
        let groups = try Self.problem.parameterGroups()
        let trained = Set(method.perturbed.filter { !method.frozen.contains($0) } + method.exact)
        func trainer(_ iterations: Int, _ directory: String?) -> Trainer<EvidenceTask, Adam> {
            Trainer(problem: Self.problem, method: method, methodSettings: label, optimizer: Adam(learningRate: 0.05, weightDecay: 0.1),
                    configuration: TrainerConfiguration(iterations: iterations, seed: 7, evaluationInterval: 2, checkpointInterval: 3),
                    checkpoints: directory.map(CheckpointStore.init(directory:)))
        }
        let start = try Self.problem.initialParameters(seed: 7)
        let uninterrupted = try trainer(5, nil).run()
        for group in groups {
            let before = start[group.range].map(\.bitPattern), after = uninterrupted.parameters[group.range].map(\.bitPattern)
            if trained.contains(group.name) {
                #expect(before != after, "\(label): \(group.name) is trained")
            } else {
                #expect(before == after, "\(label): \(group.name) is frozen")
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuroode-hybrid-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try trainer(3, directory).run()
        #expect(CheckpointStore(directory: directory).listing().map(\.iteration) == [3])
        let resumed = try trainer(5, directory).run(resume: true)
        #expect(resumed.parameters.map(\.bitPattern) == uninterrupted.parameters.map(\.bitPattern), "\(label)")
        #expect(resumed.log.map(\.deterministicPart) == uninterrupted.log.map(\.deterministicPart), "\(label)")
    }

    /// BPTT with W_rec frozen: BPTT's gradient on the trained groups, zero on W_rec, and W_rec
    /// unchanged by training under AdamW while the rest moves.
    @Test func frozenGroupsKeepTheBaseGradientOnTheTrainedGroups() throws {
        let task = try Self.problem.task(iteration: 0, seed: 7)
        let theta = try Self.problem.initialParameters(seed: 7)
        let bptt = try BackpropagationThroughTime().estimate(task, at: theta, iteration: 0)
        let method = FrozenGroups(base: BackpropagationThroughTime(), trained: ["W_in", "W_out", "b_out"])
        let frozen = try method.estimate(task, at: theta, iteration: 0)
        let recurrent = try Self.group("W_rec")
        for i in theta.indices {
            #expect(frozen.gradient[i].bitPattern == (recurrent.contains(i) ? 0 : bptt.gradient[i].bitPattern))
        }
        #expect(frozen.updatedEntries == [0..<150, 159..<168, 168..<171])
        let state = try Trainer(problem: Self.problem, method: method, optimizer: Adam(learningRate: 0.05, weightDecay: 0.1),
                                configuration: TrainerConfiguration(iterations: 3, seed: 7, maxGradientNorm: 10)).run()
        #expect(state.parameters[recurrent] == theta[recurrent])
        #expect(state.parameters[0..<150] != theta[0..<150])
        #expect(throws: TrainingError.invalidOption(name: "parameter group", value: "W", reason: "unknown; the groups are W_in, W_rec, W_out, b_out")) {
            try FrozenGroups(base: BackpropagationThroughTime(), trained: ["W"]).estimate(task, at: theta, iteration: 0)
        }
    }

    /// A restricted update leaves the other entries and their moments alone: an entry updated
    /// only on the second call moves exactly as a fresh Adam's first step would move it.
    @Test func restrictedAdamUpdateKeepsTheOtherEntriesState() {
        var adam = Adam(learningRate: 0.1)
        var x = [1.0, 2.0]
        adam.update(&x, gradient: [0.5, 9], entries: [0..<1])
        #expect(x[1] == 2)
        adam.update(&x, gradient: [0.25, -3], entries: [0..<2])
        var fresh = Adam(learningRate: 0.1), y = [2.0]
        fresh.update(&y, gradient: [-3])
        #expect(x[1] == y[0])
        var twice = Adam(learningRate: 0.1), z = [1.0]
        twice.update(&z, gradient: [0.5])
        twice.update(&z, gradient: [0.25])
        #expect(x[0] == z[0])
    }
}
