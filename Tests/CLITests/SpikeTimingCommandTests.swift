import Foundation
import Testing

/// `neuroode gradient spike-timing` and `spike-timing-izhikevich` as a user runs them: the LIF
/// gradients of bptt (dopri5 and leapfrog), adjoint-partial, fd and es against the closed form written out here, the
/// Izhikevich gradients against central differences, and the refusals. Also `simulate izhikevich`.
@Suite("spike-timing command")
struct SpikeTimingCommandTests {
    static let names = ["tau", "EL", "R", "I", "Vth", "Vreset"]

    /// LIF from V₀ = EL with constant input: t₁ = τ ln((V∞ − V₀)/(V∞ − Vth)), then every
    /// tref + τ ln((V∞ − Vreset)/(V∞ − Vth)), V∞ = EL + RI; L = (1/K)Σ(tₖ − targetₖ)² and its
    /// derivatives in (τ, EL, R, I, Vth, Vreset) with V₀ held at the point's EL.
    static func closedForm(_ p: [Double], tref: Double, targets: [Double]) -> (loss: Double, gradient: [String: Double]) {
        let (tau, el, r, i, vth, reset) = (p[0], p[1], p[2], p[3], p[4], p[5])
        let vInf = el + r * i, v0 = el
        let a = log((vInf - v0) / (vInf - vth)), b = log((vInf - reset) / (vInf - vth))
        let dt1dV = tau * (1 / (vInf - v0) - 1 / (vInf - vth)), dDdV = tau * (1 / (vInf - reset) - 1 / (vInf - vth))
        let first = [a, dt1dV, dt1dV * i, dt1dV * r, tau / (vInf - vth), 0]
        let period = [b, dDdV, dDdV * i, dDdV * r, tau / (vInf - vth), -tau / (vInf - reset)]
        let k = Double(targets.count)
        var loss = 0.0, gradient = [Double](repeating: 0, count: 6)
        for (n, target) in targets.enumerated() {
            let t = tau * a + Double(n) * (tref + tau * b)
            loss += (t - target) * (t - target) / k
            for j in 0..<6 { gradient[j] += 2 * (t - target) / k * (first[j] + Double(n) * period[j]) }
        }
        return (loss, Dictionary(uniqueKeysWithValues: zip(names, gradient)))
    }

    static func agree(_ a: [String: Double], _ b: [String: Double], _ tolerance: Double) -> Bool {
        let scale = b.values.map(abs).max() ?? 1
        return a.count == b.count && b.allSatisfy { key, value in
            guard let other = a[key] else { return false }
            return abs(other - value) <= tolerance * max(abs(value), 1e-3 * scale)
        }
    }

    /// The defaults (τ 10, EL −65, R 10, I 2, Vth −50, Vreset −65; tref 2; targets 12, 26, 41) and a
    /// moved point without refractory period: bptt and adjoint-partial (dopri5, and CVODE BDF) within
    /// 1e-5 of the closed form, fd within 1e-4.
    @Test(arguments: [(["--param", "I=2"], [10, -65, 10, 2, -50, -65.0], 2.0, [12, 26, 41.0]),
                      (["--param", "I=2.6", "--param", "tref=0", "--targets", "9,17,26,35"], [10, -65, 10, 2.6, -50, -65.0], 0.0, [9, 17, 26, 35.0])])
    func lifGradientsMatchTheClosedForm(arguments: [String], point: [Double], tref: Double, targets: [Double]) throws {
        let exact = Self.closedForm(point, tref: tref, targets: targets)
        let tight = ["--rtol", "1e-10", "--atol", "1e-10"]
        for (method, extra, tolerance) in [("bptt", tight, 1e-5), ("adjoint-partial", tight, 1e-5), ("fd", tight, 1e-4),
                                           ("adjoint-partial", tight + ["--integrator", "cvode-bdf"], 1e-4)] {
            let output = try GradientJSON.run(["spike-timing", "--method", method] + arguments + extra)
            #expect(abs(output.loss - exact.loss) <= 1e-6 * exact.loss, "\(method): loss \(output.loss) vs \(exact.loss)")
            #expect(Self.agree(output.gradient, exact.gradient, tolerance), "\(method) \(extra): \(output.gradient) vs \(exact.gradient)")
        }
    }

    /// BPTT through the leapfrog (both variants, Δt = 0.01 ms), each reset located inside its step:
    /// within the dopri5 bars of the closed form, 1e-6 in the loss and 1e-5 in the gradient
    /// (measured: 1.9e-7 and 1.4e-7).
    @Test(arguments: ["leapfrog", "leapfrog-paper"])
    func lifLeapfrogBPTTMatchesTheClosedForm(integrator: String) throws {
        let exact = Self.closedForm([10, -65, 10, 2, -50, -65], tref: 2, targets: [12, 26, 41])
        let output = try GradientJSON.run(["spike-timing", "--method", "bptt", "--integrator", integrator, "--dt", "0.01"])
        #expect(abs(output.loss - exact.loss) <= 1e-6 * exact.loss, "\(integrator): loss \(output.loss) vs \(exact.loss)")
        #expect(Self.agree(output.gradient, exact.gradient, 1e-5), "\(integrator): \(output.gradient) vs \(exact.gradient)")
    }

    /// ES estimates the smoothed gradient: with 2000 mirrored samples its I entry is the closed
    /// form's within its sampling noise (about |∇L|·√(6/2000) ≈ 4).
    @Test func evolutionStrategyFollowsTheClosedForm() throws {
        let exact = Self.closedForm([10, -65, 10, 2, -50, -65], tref: 2, targets: [12, 26, 41])
        let output = try GradientJSON.run(["spike-timing", "--method", "es", "--samples", "2000", "--seed", "1"])
        let i = try #require(output.gradient["I"]), expected = try #require(exact.gradient["I"])
        #expect(abs(i - expected) <= 0.2 * abs(expected), "es dL/dI \(i) vs \(expected)")
    }

    /// Izhikevich (chattering): bptt and adjoint-partial against fd through the same command, and
    /// bptt through the leapfrog (Δt = 0.001 ms; second order, see SpikeTimingGradientTests) too.
    @Test func izhikevichGradientsMatchFiniteDifferences() throws {
        let shape = ["spike-timing-izhikevich", "--preset", "chattering", "--targets", "3.5,4.2,6.5", "--horizon", "20"]
        let task = shape + ["--rtol", "1e-11", "--atol", "1e-11"]
        let reference = try GradientJSON.run(task + ["--method", "fd"])
        #expect(Array(reference.gradient.keys).sorted() == ["I", "a", "b", "c", "d"])
        for method in ["bptt", "adjoint-partial"] {
            let output = try GradientJSON.run(task + ["--method", method])
            #expect(Self.agree(output.gradient, reference.gradient, 1e-4), "\(method): \(output.gradient) vs fd \(reference.gradient)")
        }
        let leapfrog = try GradientJSON.run(shape + ["--method", "bptt", "--integrator", "leapfrog", "--dt", "0.001"])
        #expect(Self.agree(leapfrog.gradient, reference.gradient, 1e-4), "bptt leapfrog: \(leapfrog.gradient) vs fd \(reference.gradient)")
    }

    @Test func methodsThatCannotDifferentiateEventsRefuseInOneLine() throws {
        for arguments in [["--method", "adjoint-full"], ["--method", "bptt-checkpointed"],
                          ["--method", "bptt-checkpointed", "--integrator", "leapfrog"],
                          ["--method", "adjoint-partial", "--integrator", "leapfrog"]] {
            let result = try CommandLineTool.gradient(["spike-timing"] + arguments)
            #expect(result.status == 1 && result.errorLines.count == 1, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("cannot differentiate through the events (state resets) of lif"), "\(result.standardError)")
        }
        let leapfrogFD = try CommandLineTool.gradient(["spike-timing", "--method", "fd", "--integrator", "leapfrog", "--dt", "0.01"])
        #expect(leapfrogFD.status == 0, "forward-only methods run on any integrator: \(leapfrogFD.standardError)")
        for (arguments, named) in [(["--targets", "5,3"], "--targets"), (["--param", "tref=-1"], "tref"), (["--param", "foo=1"], "'foo'"),
                                   (["--preset", "fast-spiking"], "--preset")] {
            let result = try CommandLineTool.gradient(["spike-timing"] + arguments)
            #expect(result.status != 0 && result.errorLines.count == 1 && result.standardError.contains(named), "\(arguments): \(result.standardError)")
        }
    }

    /// `simulate lif --param tref=…`: the interspike interval is τ ln 4 + tref (closed form for the
    /// defaults) within the leapfrog's step-end resets (at most three steps late); tref = 0 drops r.
    @Test(arguments: [0.0, 5.0])
    func simulateLIFTakesTheRefractoryPeriod(tref: Double) throws {
        let result = try CommandLineTool.simulate(
            ["lif", "--param", "tref=\(tref)", "--t-end", "100", "--dt", "0.01", "--spikes", "--format", "json"])
        #expect(result.status == 0, "\(result.standardError)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        #expect((object["stateNames"] as? [String]) == (tref == 0 ? ["V"] : ["V", "r"]))
        let spikes = try #require((object["spikes"] as? [[Double]])?.first)
        try #require(spikes.count >= 3)
        let interval = 10 * log(4.0) + tref
        for (a, b) in zip(spikes, spikes.dropFirst()) {
            #expect(b - a >= interval - 1e-4 && b - a < interval + 0.03, "interval \(b - a) vs \(interval)")
        }
        let bad = try CommandLineTool.simulate(["lif", "--param", "tref=-1"])
        #expect(bad.status == 64 && bad.errorLines.count == 1 && bad.standardError.contains("tref"))
    }

    /// `simulate izhikevich` with every integrator that has events: the first spikes agree across
    /// leapfrog (Δt = 0.005), dopri5 and CVODE BDF.
    @Test func simulateIzhikevichWithEveryEventIntegrator() throws {
        var trains: [[Double]] = []
        for arguments in [["--integrator", "leapfrog", "--dt", "0.005"], ["--integrator", "dopri5"], ["--integrator", "cvode-bdf", "--rtol", "1e-10"]] {
            let result = try CommandLineTool.simulate(
                ["izhikevich", "--preset", "fast-spiking", "--t-end", "40", "--spikes", "--format", "json"] + arguments)
            #expect(result.status == 0, "\(result.standardError)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            let spikes = try #require((object["spikes"] as? [[Double]])?.first)
            trains.append(spikes)
        }
        try #require(trains.allSatisfy { $0.count == trains[0].count && $0.count >= 5 }, "\(trains.map(\.count))")
        for train in trains.dropFirst() {
            #expect(zip(train, trains[0]).allSatisfy { abs($0 - $1) < 0.05 }, "\(train) vs \(trains[0])")
        }
    }
}

/// `neuroode compare lif-timing` at a few iterations: every event-aware method and ES run, in the
/// same table as the other tasks.
@Suite("lif-timing compare")
struct LIFTimingCompareTests {
    @Test func comparesTheMethods() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(
            ["compare", "lif-timing", "--methods", "bptt,adjoint-partial,es", "--iterations", "3", "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("lif-timing: 3 iterations × 1 run") == true, "\(lines.first ?? "")")
        for method in ["bptt", "adjoint-partial", "es"] {
            #expect(lines.contains { $0.hasPrefix(method + " ") }, "\(method) row")
        }
        let curves = try String(contentsOf: directory.appendingPathComponent("curves.csv"), encoding: .utf8)
        #expect(curves.split(separator: "\n").count == 1 + 3 * 3)
    }

    /// `--integrator leapfrog`: BPTT and ES through the leapfrog (its Δt recorded with the
    /// configuration); the adjoint of a leapfrog pass refuses, and the options are checked.
    @Test func runsThroughTheLeapfrog() throws {
        let directory = try CommandLineTool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try CommandLineTool.run(
            ["compare", "lif-timing", "--integrator", "leapfrog", "--dt", "0.02", "--methods", "bptt,es", "--iterations", "2", "--out", directory.path])
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        for method in ["bptt", "es"] { #expect(lines.contains { $0.hasPrefix(method + " ") }, "\(method) row") }
        let summary = try String(contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8)
        #expect(summary.contains(#""leapfrogStep" : 0.02"#), "\(summary)")
        let refusals: [([String], String)] = [
            (["--integrator", "leapfrog", "--methods", "adjoint-partial"], "error: adjoint-partial cannot differentiate through the events (state resets) of lif-layer"),
            (["--dt", "0.01"], "error: --dt does not apply here: dopri5 chooses its own steps"),
            (["--integrator", "rk4"], "error: unknown integrator 'rk4'; choose one of: dopri5, leapfrog"),
            (["--integrator", "leapfrog", "--dt", "0"], "error: invalid value '0.0' for --dt: the leapfrog's step must be finite and positive"),
        ]
        for (arguments, message) in refusals {
            let refused = try CommandLineTool.run(["compare", "lif-timing", "--iterations", "1", "--out", directory.path] + arguments)
            #expect(refused.status != 0 && refused.errorLines.count == 1 && refused.errorLines[0].hasPrefix(message), "\(arguments): \(refused.standardError)")
        }
        let elsewhere = try CommandLineTool.run(["compare", "turn-off", "--integrator", "leapfrog", "--out", directory.path])
        #expect(elsewhere.errorLines == ["error: --integrator does not apply here: turn-off does not take it"])
    }
}
