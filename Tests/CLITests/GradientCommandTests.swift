import Foundation
import Testing

/// `neuroode gradient` as a user runs it. The references are outside the gradient code: the
/// loss recomputed here from `simulate`'s trajectory, central finite differences against BPTT,
/// BPTT against the continuous adjoint, and for ES a sign that the landscape (checked here first)
/// makes certain.
@Suite("gradient output")
struct GradientOutputTests {
    /// Turn-off over a short horizon: the neuron fires two or three spikes, so the loss is well away
    /// from 0 and smooth in I, and the debug build runs every method in well under a second.
    static let turnOff = ["turn-off", "--horizon", "200"]

    @Test func jsonHasExactlyTheDocumentedKeys() throws {
        let result = try CommandLineTool.gradient(Self.turnOff + ["--method", "bptt", "--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["task", "method", "loss", "parameterNames", "gradient", "stats", "provenance"])
        let output = try GradientJSON.parse(result.standardOutput)
        #expect(output.task == "turn-off")
        #expect(output.method == "bptt")
        #expect(Array(output.gradient.keys) == ["I"])
        for key in ["bytesStored", "forwardSolves", "rightHandSideEvaluations", "vectorJacobianProducts",
                    "failedSamples", "wallTime", "gradientNorm"] {
            #expect(output.stats[key]?.number != nil, "stats.\(key) missing")
        }
        #expect(output.stats["drift"] == nil, "drift is reported by the full adjoint only")
        #expect(output.stats["checkpointing"]?.string == "none")
        #expect(output.stats["forwardSolves"]?.number == 1)
        #expect(output.stats["vectorJacobianProducts"]?.number == 2000, "200 ms at dt 0.1")
        #expect(output.stats["gradientNorm"]?.number == abs(try #require(output.gradient["I"])))
    }

    /// The loss is (1/τ)∫T(V)dt; here it is recomputed by the trapezoid rule from the trajectory
    /// `simulate` writes for the same neuron, start and step, with T written out in the test.
    @Test func lossIsTheMeanOutputOfTheSimulatedTrajectory() throws {
        let gradient = try GradientJSON.parse(
            try CommandLineTool.gradient(Self.turnOff + ["--method", "bptt", "--param", "I=97", "--format", "json"]).standardOutput)
        let simulated = try CommandLineTool.simulate(
            ["morris-lecar", "--preset", "hopf", "--param", "I=97", "--y0", "-41.84,0.5282", "--t-end", "200", "--format", "json"])
        let trajectory = Trajectory(json: try SimulationJSON.parse(simulated.standardOutput))
        let output = trajectory.component(0).map { 1 / (1 + exp(-($0 - 10) / 3)) }
        var integral = 0.0
        for k in 1..<output.count {
            integral += 0.5 * (trajectory.times[k] - trajectory.times[k - 1]) * (output[k] + output[k - 1])
        }
        #expect(abs(gradient.loss - integral / 200) <= 1e-12 * integral / 200, "\(gradient.loss) vs \(integral / 200)")
        #expect(gradient.loss > 0.05, "the neuron fires at I = 97")
    }

    /// Checkpointing recomputes the same arithmetic, so every way of choosing the interval gives
    /// BPTT's gradient to rounding, with less stored.
    @Test(arguments: [[], ["--checkpoint-interval", "7"], ["--memory-budget", "4000"]])
    func checkpointedBPTTMatchesBPTT(_ options: [String]) throws {
        let plain = try GradientJSON.run(Self.turnOff + ["--method", "bptt"])
        let checkpointed = try GradientJSON.run(Self.turnOff + ["--method", "bptt-checkpointed"] + options)
        let expected = try #require(plain.gradient["I"]), actual = try #require(checkpointed.gradient["I"])
        #expect(abs(actual - expected) <= 1e-12 * abs(expected), "\(actual) vs \(expected)")
        #expect(checkpointed.loss == plain.loss)
        let stored = try #require(checkpointed.stats["bytesStored"]?.number)
        #expect(stored < (plain.stats["bytesStored"]?.number ?? 0))
        if options.first == "--memory-budget" {
            #expect(stored <= 4000)
            #expect(checkpointed.stats["memoryBudget"]?.number == 4000)
        }
        if options.first == "--checkpoint-interval" {
            #expect(checkpointed.stats["checkpointInterval"]?.number == 7)
        }
    }

    /// Central differences of the same discrete loss: truncation O(h²) and roundoff O(ε/h) at
    /// h = 1e-5·|I| leave about 1e-8; 1e-6 is the bar.
    @Test(arguments: ["leapfrog", "leapfrog-paper"])
    func finiteDifferencesMatchBPTT(_ integrator: String) throws {
        let bptt = try GradientJSON.run(Self.turnOff + ["--integrator", integrator, "--method", "bptt"])
        let fd = try GradientJSON.run(Self.turnOff + ["--integrator", integrator, "--method", "fd"])
        let expected = try #require(bptt.gradient["I"]), actual = try #require(fd.gradient["I"])
        #expect(abs(actual - expected) <= 1e-6 * abs(expected), "\(integrator): fd \(actual), bptt \(expected)")
        #expect(fd.stats["forwardSolves"]?.number == 3)
    }

    /// The continuous adjoint read from the stored trajectory differs from BPTT of the leapfrog map
    /// by the map's O(dt²) error: well under 1 % at dt = 0.1 ms.
    @Test func partialAdjointIsCloseToBPTTOnTurnOff() throws {
        let bptt = try GradientJSON.run(Self.turnOff + ["--method", "bptt"])
        let adjoint = try GradientJSON.run(Self.turnOff + ["--method", "adjoint-partial"])
        let expected = try #require(bptt.gradient["I"]), actual = try #require(adjoint.gradient["I"])
        #expect(abs(actual - expected) <= 1e-2 * abs(expected), "adjoint \(actual), bptt \(expected)")
        #expect(adjoint.stats["rtol"]?.number == 1e-8)
        #expect(adjoint.stats["atol"]?.number == 1e-10)
    }

    /// ES with a fixed seed gives the same estimate every time, and its sign is BPTT's.
    ///
    /// Why the sign is certain here rather than likely: over 100 ms at I = 100 ± 2.5 the loss
    /// increases monotonically in I (checked below through BPTT's gradient and the losses), and
    /// with σ = 0.5 every sample lies in that interval (|ε| < 5). For a monotone 1-D loss every
    /// term of every variant has the gradient's sign: (L(θ+σε) − L(θ−σε))·ε for mirrored pairs,
    /// (L(θ+σε) − L(θ))·ε for plain samples, and the same with centred ranks, which preserve
    /// order. The cliff near I ≈ 95.5, where the neuron falls silent, is 9σ away.
    @Test(arguments: [["--variant", "mirrored"], ["--variant", "plain"], ["--ranks"]])
    func evolutionStrategyIsReproducibleAndHasBPTTsSign(_ variant: [String]) throws {
        let task = ["turn-off", "--horizon", "100"]
        var previousLoss = -Double.infinity
        for current in [97.5, 99, 100, 101, 102.5] {
            let bptt = try GradientJSON.run(task + ["--method", "bptt", "--param", "I=\(current)"])
            #expect(try #require(bptt.gradient["I"]) > 0, "the loss must increase at I = \(current)")
            #expect(bptt.loss > previousLoss, "the loss must increase up to I = \(current)")
            previousLoss = bptt.loss
        }
        for seed in ["0", "1", "2"] {
            let arguments = task + ["--method", "es", "--sigma", "0.5", "--samples", "40", "--seed", seed] + variant
            let first = try GradientJSON.run(arguments)
            let second = try GradientJSON.run(arguments)
            #expect(first.gradient == second.gradient, "seed \(seed): the estimate must not depend on the run")
            #expect(first.loss == second.loss)
            #expect(first.stats.filter { $0.key != "wallTime" } == second.stats.filter { $0.key != "wallTime" })
            #expect(try #require(first.gradient["I"]) > 0, "seed \(seed) \(variant)")
            #expect(first.stats["forwardSolves"]?.number == 41)
            #expect(first.stats["seed"]?.number == Double(seed))
            #expect(first.stats["sigma"]?.number == 0.5)
        }
        let other = try GradientJSON.run(task + ["--method", "es", "--sigma", "0.5", "--samples", "40", "--seed", "1"] + variant)
        let reference = try GradientJSON.run(task + ["--method", "es", "--sigma", "0.5", "--samples", "40", "--seed", "0"] + variant)
        #expect(other.gradient != reference.gradient, "the seed chooses the noise")
    }

    /// The full adjoint reports how far its backsolved state drifted from the forward one, from
    /// the end of the horizon back to 0; where the backsolve diverges (the Morris–Lecar limit
    /// cycle attracts forward, so it repels backward) the run fails with one line naming the method.
    @Test func fullAdjointReportsDriftAndItsFailure() throws {
        let output = try GradientJSON.run(["turn-off", "--horizon", "10", "--method", "adjoint-full"])
        let drift = try #require(output.stats["drift"]?.rows)
        #expect(drift.count >= 100)
        let times = drift.map { $0[0] }
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 > $1 }, "from T back to 0")
        #expect(times.first.map { $0 < 10 } == true)
        #expect(times.last == 0)
        #expect(drift.allSatisfy { $0.count == 2 && $0[1].isFinite && $0[1] >= 0 })
        #expect(drift.contains { $0[1] > 0 }, "leapfrog forward and dopri5 backward never agree exactly")

        let failed = try CommandLineTool.gradient(Self.turnOff + ["--method", "adjoint-full"])
        #expect(failed.status != 0)
        #expect(failed.standardOutput.isEmpty)
        #expect(failed.errorLines.count == 1)
        #expect(failed.errorLines.first?.hasPrefix("error: adjoint-full failed: ") == true, "\(failed.standardError)")
        #expect(output.stats["diverged"] == .boolean(false))
    }

    /// Over 100 ms the backsolve leaves the cycle (relative drift past 1e-3 before t = 90) but stays
    /// finite: the full adjoint fails naming its drift, and `--allow-drift` lets the estimate
    /// through only flagged as diverged, in the text and in the JSON.
    @Test func driftPastTheToleranceFailsUnlessAllowed() throws {
        let task = ["turn-off", "--horizon", "100", "--method", "adjoint-full"]
        let failed = try CommandLineTool.gradient(task)
        #expect(failed.status == 1 && failed.errorLines.count == 1)
        #expect(failed.standardError.contains("diverged from the forward trajectory: relative drift"), "\(failed.standardError)")
        let allowed = try CommandLineTool.gradient(task + ["--allow-drift"])
        #expect(allowed.status == 0, "\(allowed.standardError)")
        #expect(allowed.standardOutput.contains("DIVERGED: the backsolve's relative drift"))
        let json = try GradientJSON.run(task + ["--allow-drift"])
        #expect(json.stats["diverged"] == .boolean(true) && json.stats["allowsDrift"] == .boolean(true))
        let misplaced = try CommandLineTool.gradient(["turn-off", "--horizon", "10", "--allow-drift"])
        #expect(misplaced.status == 64 && misplaced.standardError.contains("--allow-drift"))
    }

    /// rober-integral's partial adjoint runs through CVODES and reproduces SUNDIALS'
    /// cvsRoberts_ASAi_dns.out (G = 3.9983e7; dG/dp = 7.6842e5, −3.0691, 5.1144e-4 for the
    /// example's p = (k1, k3, k2)) within 2 × 100·rtol: both are within 100·rtol of the truth
    /// (see CVODESAdjointTests, where the truth is computed independently); central differences of the same
    /// CVODE solves agree on dG/dk1 within the forward tolerance's noise. The full adjoint's
    /// backsolve of the stiff, irreversible ROBER fails, and says so in one line.
    @Test func roberIntegralReproducesTheSUNDIALSAdjointExample() throws {
        let adjoint = try GradientJSON.run(["rober-integral", "--method", "adjoint-partial"])
        #expect(Array(adjoint.gradient.keys).sorted() == ["k1", "k2", "k3"])
        func close(_ value: Double?, _ reference: Double) -> Bool {
            guard let value else { return false }
            return abs(value - reference) <= 2e-4 * abs(reference)
        }
        #expect(close(adjoint.loss, 3.9983e7))
        #expect(close(adjoint.gradient["k1"], 7.6842e5))
        #expect(close(adjoint.gradient["k2"], 5.1144e-4))
        #expect(close(adjoint.gradient["k3"], -3.0691))
        let differences = try GradientJSON.run(["rober-integral", "--method", "fd"])
        #expect(abs(differences.loss - adjoint.loss) <= 1e-6 * adjoint.loss)
        let k1 = try #require(differences.gradient["k1"])
        #expect(abs(k1 - 7.6842e5) <= 0.01 * 7.6842e5)

        let failed = try CommandLineTool.gradient(["rober-integral", "--method", "adjoint-full"])
        #expect(failed.status != 0 && failed.errorLines.count == 1)
        #expect(failed.errorLines.first?.hasPrefix("error: adjoint-full failed: ") == true, "\(failed.standardError)")
    }

    /// evidence at a tiny size: BPTT through the network's leapfrog map against central
    /// differences of the same map, every entry (W_in, W_rec, W_out, b_out) within 1e-6 of the
    /// gradient's norm; the names follow θ's layout.
    @Test func evidenceBPTTMatchesCentralDifferences() throws {
        let task = ["evidence", "--neurons", "2", "--batch", "2"]
        let bptt = try GradientJSON.run(task + ["--method", "bptt"])
        let differences = try GradientJSON.run(task + ["--method", "fd"])
        #expect(bptt.gradient.count == 2 * 50 + 2 * 2 + 3 * 2 + 3)
        #expect(Set(bptt.gradient.keys) == Set(differences.gradient.keys))
        #expect(bptt.gradient["W_in[1,49]"] != nil && bptt.gradient["W_rec[1,1]"] != nil && bptt.gradient["b_out[2]"] != nil)
        #expect(abs(bptt.loss - differences.loss) <= 1e-12 * abs(bptt.loss))
        let norm = bptt.gradient.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(norm > 0)
        for (name, value) in bptt.gradient {
            let reference = try #require(differences.gradient[name])
            #expect(abs(value - reference) <= 1e-6 * norm, "\(name): \(value) vs \(reference)")
        }
    }

    /// `--config FILE.json` gives the same result as the same options typed; a typed flag wins
    /// over the file; a key that is no option is refused naming the file and the key.
    @Test func configFileEqualsTypedOptionsAndFlagsWin() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("neuroode-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("es.json")
        try Data(#"{"method": "es", "samples": 6, "horizon": 40, "param": ["I=97"], "ranks": true, "sigma": 0.5}"#.utf8).write(to: file)
        let typed = try GradientJSON.run(["turn-off", "--method", "es", "--samples", "6", "--horizon", "40", "--param", "I=97", "--ranks", "--sigma", "0.5"])
        let configured = try GradientJSON.run(["turn-off", "--config", file.path])
        #expect(configured.loss == typed.loss && configured.gradient == typed.gradient)
        #expect(configured.stats["ranks"] == .boolean(true) && configured.stats["samples"]?.number == 6)
        let overridden = try GradientJSON.run(["turn-off", "--config", file.path, "--samples", "8"])
        #expect(overridden.stats["samples"]?.number == 8)

        let bad = directory.appendingPathComponent("bad.json")
        try Data(#"{"bogus": 1}"#.utf8).write(to: bad)
        let refused = try CommandLineTool.gradient(["turn-off", "--config", bad.path])
        #expect(refused.status != 0 && refused.errorLines.count == 1)
        #expect(refused.errorLines.first.map { $0.contains(bad.path) && $0.contains("bogus") } == true, "\(refused.standardError)")
    }

    /// Spiral with H = 8: BPTT differentiates the dopri5 map, the adjoint the continuous flow of a
    /// forward solve at rtol 1e-4; on 10-point windows the two agree to a few percent. Central
    /// differences check both on the same discrete loss.
    @Test func spiralGradientsAgreeAcrossMethods() throws {
        let task = ["spiral", "--hidden", "8"]
        let bptt = try GradientJSON.run(task + ["--method", "bptt"])
        let adjoint = try GradientJSON.run(task + ["--method", "adjoint-partial"])
        let fd = try GradientJSON.run(task + ["--method", "fd"])
        // 2 → 8 → 2: W1 8×2, b1 8, W2 2×8, b2 2.
        #expect(bptt.gradient.count == 42)
        for name in ["W1[0,0]", "W1[7,1]", "b1[7]", "W2[1,7]", "b2[1]"] {
            #expect(bptt.gradient[name] != nil, "\(name) missing")
        }
        #expect(Set(adjoint.gradient.keys) == Set(bptt.gradient.keys))
        let norm = try #require(bptt.stats["gradientNorm"]?.number)
        #expect(norm > 0)
        #expect(abs(norm - Self.norm(bptt.gradient.values)) <= 1e-12 * norm)
        #expect(Self.distance(adjoint.gradient, bptt.gradient) <= 0.03 * norm)
        #expect(Self.distance(fd.gradient, bptt.gradient) <= 1e-5 * norm)
        #expect(abs(adjoint.loss - bptt.loss) <= 1e-3 * bptt.loss)
    }

    /// `--param` moves θ to the named weight's new value; `--seed` picks another initialization
    /// and minibatch.
    @Test func spiralParameterAndSeedChangeThePoint() throws {
        let task = ["spiral", "--hidden", "8", "--method", "bptt"]
        let base = try GradientJSON.run(task)
        let moved = try GradientJSON.run(task + ["--param", "W1[0,1]=0.3"])
        let reseeded = try GradientJSON.run(task + ["--seed", "5"])
        #expect(moved.loss != base.loss)
        #expect(reseeded.loss != base.loss)
        // The gradient is evaluated at the moved point: central differences there agree.
        let fd = try GradientJSON.run(["spiral", "--hidden", "8", "--method", "fd", "--param", "W1[0,1]=0.3"])
        #expect(Self.distance(fd.gradient, moved.gradient) <= 1e-5 * Self.norm(moved.gradient.values))
    }

    @Test func textSummaryNamesTheLossAndTheLargestEntries() throws {
        let turnOff = try CommandLineTool.gradient(["turn-off", "--horizon", "50"])
        #expect(turnOff.status == 0)
        #expect(turnOff.standardOutput.contains("loss: "))
        #expect(turnOff.standardOutput.contains("\n  I  "))
        let spiral = try CommandLineTool.gradient(["spiral", "--hidden", "8", "--method", "adjoint-full"])
        #expect(spiral.status == 0)
        #expect(spiral.standardOutput.contains("largest 12 entries (all 42 with --format json)"))
        #expect(spiral.standardOutput.contains("backsolve drift"))
    }

    static func norm(_ values: some Collection<Double>) -> Double {
        values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    static func distance(_ a: [String: Double], _ b: [String: Double]) -> Double {
        norm(a.map { $0.value - (b[$0.key] ?? .nan) })
    }
}

/// Every bad input reaches the user as a non-zero status and one line on standard error that
/// names the value, before any gradient is computed.
@Suite("gradient errors")
struct GradientErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let mentions: [String]
        var testDescription: String { arguments.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: ["nope"], mentions: ["task", "'nope'", "turn-off", "spiral"]),
        Case(arguments: ["turn-off", "--method", "magic"], mentions: ["method", "'magic'", "bptt", "adjoint-partial"]),
        Case(arguments: ["turn-off", "--method", "es", "--variant", "twisted"], mentions: ["variant", "'twisted'", "mirrored"]),
        Case(arguments: ["turn-off", "--method", "es", "--sigma", "0"], mentions: ["--sigma", "sigma = 0.0"]),
        Case(arguments: ["turn-off", "--method", "es", "--sigma", "-1"], mentions: ["--sigma", "sigma = -1.0"]),
        Case(arguments: ["turn-off", "--method", "es", "--sigma", "nan"], mentions: ["--sigma", "sigma = nan"]),
        Case(arguments: ["turn-off", "--method", "es", "--samples", "7"], mentions: ["--samples", "samples = 7", "even"]),
        Case(arguments: ["turn-off", "--method", "es", "--samples", "1", "--variant", "plain"], mentions: ["--samples", "samples = 1"]),
        Case(arguments: ["turn-off", "--param", "I=nan"], mentions: ["--param", "I = nan"]),
        Case(arguments: ["turn-off", "--param", "I=inf"], mentions: ["--param", "I = inf"]),
        Case(arguments: ["turn-off", "--param", "J=3"], mentions: ["parameter", "'J'", "turn-off", "I"]),
        Case(arguments: ["turn-off", "--param", "I"], mentions: ["--param", "NAME=VALUE"]),
        Case(arguments: ["spiral", "--hidden", "8", "--param", "W9[0,0]=1"], mentions: ["'W9[0,0]'", "spiral", "W1[0,0]", "42 in all"]),
        Case(arguments: ["spiral", "--hidden", "8", "--param", "b2[0]=nan"], mentions: ["--param", "b2[0] = nan"]),
        Case(arguments: ["turn-off", "--horizon", "0"], mentions: ["--horizon", "'0.0'"]),
        Case(arguments: ["turn-off", "--horizon", "-5"], mentions: ["--horizon", "'-5.0'"]),
        Case(arguments: ["turn-off", "--horizon", "nan"], mentions: ["--horizon", "'nan'"]),
        Case(arguments: ["turn-off", "--dt", "0"], mentions: ["--dt", "'0.0'"]),
        Case(arguments: ["turn-off", "--horizon", "100", "--dt", "500"], mentions: ["--dt", "'500.0'"]),
        Case(arguments: ["turn-off", "--integrator", "rk4"], mentions: ["integrator", "'rk4'", "dopri5"]),
        Case(arguments: ["turn-off", "--integrator", "dopri5", "--dt", "0.1"], mentions: ["--dt", "dopri5"]),
        Case(arguments: ["turn-off", "--method", "adjoint-partial", "--rtol", "-1"], mentions: ["--rtol", "'-1.0'"]),
        Case(arguments: ["turn-off", "--method", "adjoint-full", "--atol", "0"], mentions: ["--atol", "'0.0'"]),
        Case(arguments: ["turn-off", "--method", "adjoint-full", "--rtol", "2"], mentions: ["--rtol", "'2.0'"]),
        Case(arguments: ["turn-off", "--rtol", "1e-6"], mentions: ["--rtol", "leapfrog"]),
        Case(arguments: ["spiral", "--method", "bptt", "--atol", "1e-6"], mentions: ["--atol", "spiral"]),
        Case(arguments: ["turn-off", "--hidden", "8"], mentions: ["--hidden", "turn-off"]),
        Case(arguments: ["spiral", "--horizon", "5"], mentions: ["--horizon", "spiral"]),
        Case(arguments: ["turn-off", "--seed", "3"], mentions: ["--seed", "turn-off"]),
        Case(arguments: ["turn-off", "--samples", "10"], mentions: ["--samples", "es"]),
        Case(arguments: ["turn-off", "--method", "fd", "--ranks"], mentions: ["--ranks", "es"]),
        Case(arguments: ["turn-off", "--checkpoint-interval", "4"], mentions: ["--checkpoint-interval", "bptt-checkpointed"]),
        Case(arguments: ["turn-off", "--method", "bptt-checkpointed", "--checkpoint-interval", "0"], mentions: ["--checkpoint-interval", "'0'"]),
        Case(arguments: ["turn-off", "--method", "bptt-checkpointed", "--memory-budget", "-8"], mentions: ["--memory-budget", "'-8'"]),
        Case(arguments: ["turn-off", "--method", "bptt-checkpointed", "--checkpoint-interval", "4", "--memory-budget", "4096"],
             mentions: ["--memory-budget", "--checkpoint-interval"]),
        Case(arguments: ["turn-off", "--method", "fd", "--fd-step", "0"], mentions: ["--fd-step", "'0.0'"]),
        Case(arguments: ["spiral", "--hidden", "0"], mentions: ["--hidden", "'0'"]),
        Case(arguments: ["spiral", "--windows", "0"], mentions: ["--windows", "'0'"]),
        Case(arguments: ["spiral", "--window-length", "1"], mentions: ["--window-length", "'1'"]),
        Case(arguments: ["turn-off", "--format", "xml"], mentions: ["--format", "'xml'"]),
        Case(arguments: ["rober-integral", "--integrator", "leapfrog"], mentions: ["--integrator", "leapfrog"]),
        Case(arguments: ["evidence", "--neurons", "0"], mentions: ["--neurons", "'0'"]),
        Case(arguments: ["turn-off", "--batch", "4"], mentions: ["--batch", "turn-off"]),
        Case(arguments: ["rober-integral", "--horizon", "-1"], mentions: ["--horizon", "-1"]),
        Case(arguments: ["turn-off", "--backward-integrator", "cvode-bdf"], mentions: ["--backward-integrator", "bptt"]),
        Case(arguments: ["turn-off", "--method", "adjoint-full", "--backward-integrator", "leapfrog"],
             mentions: ["backward integrator", "leapfrog"]),
    ]

    @Test(arguments: cases)
    func rejects(_ bad: Case) throws {
        let result = try CommandLineTool.gradient(bad.arguments)
        #expect(result.status != 0)
        #expect(result.standardOutput.isEmpty)
        #expect(result.errorLines.count == 1, "stderr: \(result.standardError)")
        let line = result.errorLines.first ?? ""
        #expect(line.hasPrefix("error: "), "\(line)")
        for text in bad.mentions {
            #expect(line.contains(text), "'\(text)' missing from: \(line)")
        }
        for trace in ["Fatal error", "Stack dump", "Backtrace", "Usage:"] {
            #expect(!result.standardError.contains(trace))
        }
    }

    @Test func missingTaskIsNamed() throws {
        let result = try CommandLineTool.gradient([])
        #expect(result.status != 0)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.contains("<task>") == true)
    }
}

extension CommandLineTool {
    /// `neuroode gradient arguments…`.
    static func gradient(_ arguments: [String]) throws -> Result {
        try run(["gradient"] + arguments)
    }
}

/// The JSON object `gradient --format json` writes, decoded exactly (see ``SimulationJSON``).
struct GradientJSON: Decodable {
    let task: String
    let method: String
    let loss: Double
    let gradient: [String: Double]
    let stats: [String: Stat]

    /// A `stats` value: a number, a string, a flag, or rows of numbers (the drift).
    enum Stat: Decodable, Equatable {
        case number(Double)
        case string(String)
        case boolean(Bool)
        case rows([[Double]])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let value = try? container.decode(Double.self) {
                self = .number(value)
            } else if let value = try? container.decode(Bool.self) {
                self = .boolean(value)
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else {
                self = .rows(try container.decode([[Double]].self))
            }
        }

        var number: Double? { if case let .number(value) = self { value } else { nil } }
        var string: String? { if case let .string(value) = self { value } else { nil } }
        var rows: [[Double]]? { if case let .rows(value) = self { value } else { nil } }
    }

    static func parse(_ text: String) throws -> GradientJSON {
        try JSONDecoder().decode(GradientJSON.self, from: Data(text.utf8))
    }

    /// Runs `neuroode gradient arguments… --format json`, which must succeed.
    static func run(_ arguments: [String]) throws -> GradientJSON {
        let result = try CommandLineTool.gradient(arguments + ["--format", "json"])
        try #require(result.status == 0, "\(arguments.joined(separator: " ")): \(result.standardError)")
        return try parse(result.standardOutput)
    }
}
