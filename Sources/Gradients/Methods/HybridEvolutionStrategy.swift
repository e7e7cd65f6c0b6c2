import Dispatch
import NeuroODE

/// The ES variants of the authors' code, on named parameter groups (README "ES variants"):
/// an evolution strategy estimates the gradient of the `perturbed` groups while the `exact`
/// groups — the loss's own parameters, e.g. the evidence readout W_out, b_out — get their exact
/// gradient in the same iteration by backpropagation through the loss only, which needs the
/// forward pass at θ and no backpropagation through time. Every other group is frozen.
///
/// Per iteration k:
/// 1. The perturbed groups of this iteration: all of `perturbed` at once, or with `alternates`
///    only `perturbed[k mod count]` (the cycle follows the list's order and depends on k alone,
///    so a resumed run cycles exactly as an uninterrupted one). A group in `frozen` keeps its
///    turn in the cycle but is neither perturbed nor updated on it: the authors' runs with W_rec
///    frozen by a bug alternate W_in, W_rec and update only the readout on W_rec's turns.
/// 2. One forward pass at θ gives L(θ) and ∂L/∂θ_exact (the loss's parameter gradient).
/// 3. ES (``evolution``: mirrored or plain sampling, optional centred ranks, S samples, σ) on the
///    sub-vector φ of this iteration's perturbed groups, the rest of θ held fixed: it estimates
///    ∇_φ E[L(φ + σε, rest)], ε ~ N(0, I) over φ's entries only, reusing L(θ) from step 2.
/// 4. The gradient is zero outside those groups, and ``GradientEstimate/updatedEntries`` names
///    exactly the groups updated this iteration, so the optimizer leaves the others and their
///    moments untouched.
///
/// With no perturbed group this is the readout-only baseline: one forward pass per iteration.
/// With no exact group it is ES on some groups only (e.g. the hidden weights with the readout
/// frozen). Its ``name`` says which: `readout`, `es` or `hybrid`.
public struct HybridEvolutionStrategy: GradientMethod, SharesWorkAmongRanks {
    /// The estimator of the perturbed part, with its samples, σ, sampling, ranks and seed.
    public var evolution: EvolutionStrategy
    /// The groups ES perturbs, in the alternation's cycle order.
    public var perturbed: [String]
    /// The groups trained by their exact gradient through the loss alone (loss parameters only).
    public var exact: [String]
    /// Groups of `perturbed` that are not trained: they keep their turn in the cycle.
    public var frozen: [String]
    /// One perturbed group per iteration, cycling through `perturbed` in order.
    public var alternates: Bool

    /// A hybrid method; ``validate(groups:)`` checks the names against a task's groups.
    public init(evolution: EvolutionStrategy, perturbed: [String], exact: [String], frozen: [String] = [], alternates: Bool = false) {
        self.evolution = evolution
        self.perturbed = perturbed
        self.exact = exact
        self.frozen = frozen
        self.alternates = alternates
    }

    /// The ranks ES shares its samples with (``EvolutionStrategy/communicator``).
    public var communicator: any Communicator { evolution.communicator }

    public var name: String {
        if perturbed.isEmpty { return "readout" }
        return exact.isEmpty ? "es" : "hybrid"
    }

    /// Checks the configuration against θ's `groups`, naming the first bad group: every name known
    /// and listed once, exact groups among the loss's parameters, frozen ones among the perturbed,
    /// and something trained at all. ES's own options are checked when ES runs.
    public func validate(groups: [ParameterGroup]) throws(TrainingError) {
        let known = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let choices = groups.map(\.name).joined(separator: ", ")
        var seen: Set<String> = []
        for name in perturbed + exact {
            guard known[name] != nil else {
                throw .invalidOption(name: "parameter group", value: name, reason: "unknown; the groups are \(choices)")
            }
            guard seen.insert(name).inserted else {
                throw .invalidOption(name: "parameter group", value: name, reason: "listed twice (perturbed and exact groups are disjoint)")
            }
        }
        for name in exact where known[name]?.belongsToLoss != true {
            throw .invalidOption(
                name: "exact group", value: name,
                reason: "it is not a parameter of the loss, so its exact gradient needs backpropagation through time; perturb or freeze it")
        }
        for name in frozen where !perturbed.contains(name) {
            throw .invalidOption(name: "frozen group", value: name, reason: "only a perturbed group keeps a (frozen) turn in the cycle; leave it out instead")
        }
        guard !exact.isEmpty || perturbed.contains(where: { !frozen.contains($0) }) else {
            throw .invalidOption(name: "parameter groups", value: "none", reason: "no group is trained")
        }
    }

    /// The groups perturbed and updated at `iteration` (empty on a frozen group's turn).
    public func perturbedGroups(iteration: Int) -> [String] {
        guard !perturbed.isEmpty else { return [] }
        let turn = alternates ? [perturbed[iteration % perturbed.count]] : perturbed
        return turn.filter { !frozen.contains($0) }
    }

    public func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        if task.integratesRunningCostAsState { return try estimate(task.withQuadratureState(), at: theta, iteration: iteration) }
        let clock = DispatchTime.now().uptimeNanoseconds
        let groups = try ParameterGroup.groups(of: task)
        try validate(groups: groups)
        func ranges(_ names: [String]) -> [Range<Int>] {
            groups.filter { names.contains($0.name) }.map(\.range)
        }
        let exactRanges = ranges(exact), perturbedRanges = ranges(perturbedGroups(iteration: iteration))

        // The forward pass at θ: L(θ) and the loss's own parameter gradient.
        let solution = try task.forward(at: theta)
        let lossStart = task.trainedParameters.count
        let lossGradient = task.loss.valueAndGradient(
            integrals: solution.integrals, observations: task.observations(of: solution), parameters: try task.split(theta).loss)
        guard lossGradient.value.isFinite else { throw TrainingError.nonFiniteLoss(lossGradient.value) }
        var gradient = [Double](repeating: 0, count: theta.count)
        for range in exactRanges {
            for i in range { gradient[i] = lossGradient.parameters[i - lossStart] }
        }
        var report = GradientReport()
        report.forwardSolves = 1
        report.rightHandSideEvaluations = solution.statistics.rightHandSideEvaluations

        if !perturbedRanges.isEmpty {
            let part = try perturbedEstimate(
                objective: task, at: theta, ranges: perturbedRanges, iteration: iteration, center: lossGradient.value)
            for range in perturbedRanges {
                for i in range { gradient[i] = part.gradient[i] }
            }
            report.forwardSolves += part.report.forwardSolves
            report.failedSamples = part.report.failedSamples
            report.rightHandSideEvaluations += part.report.rightHandSideEvaluations
            report.bytesStored = part.report.bytesStored
        }
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        var estimate = GradientEstimate(loss: lossGradient.value, gradient: gradient, report: report)
        estimate.updatedEntries = (exactRanges + perturbedRanges).sorted { $0.lowerBound < $1.lowerBound }
        return estimate
    }

    /// ES on the entries of θ in `ranges` alone, the others held at θ: the estimate of
    /// ∇_φ E[L(φ + σε, rest)] scattered into a vector of θ's length (zero outside `ranges`).
    /// `center`, if known, is L(θ) and saves its forward solve.
    func perturbedEstimate(
        objective: some Objective, at theta: [Double], ranges: [Range<Int>], iteration: Int, center: Double?
    ) throws -> GradientEstimate {
        let embedded = GroupEmbedding(base: objective, theta: theta, ranges: ranges)
        let phi = ranges.flatMap { theta[$0] }
        var part = try evolution.estimate(objective: embedded, at: phi, iteration: iteration, center: center)
        var gradient = [Double](repeating: 0, count: theta.count)
        var k = 0
        for range in ranges {
            for i in range {
                gradient[i] = part.gradient[k]
                k += 1
            }
        }
        part.gradient = gradient
        return part
    }
}

/// The objective as a function of some entries of θ only, the others held at θ's values.
private struct GroupEmbedding<Base: Objective>: Objective {
    let base: Base
    let theta: [Double]
    let ranges: [Range<Int>]

    var parameterCount: Int { ranges.reduce(0) { $0 + $1.count } }

    func loss(at phi: [Double]) throws -> Double {
        try evaluate(at: phi).loss
    }

    func evaluate(at phi: [Double]) throws -> ObjectiveEvaluation {
        var full = theta
        var k = 0
        for range in ranges {
            for i in range {
                full[i] = phi[k]
                k += 1
            }
        }
        return try base.evaluate(at: full)
    }
}
