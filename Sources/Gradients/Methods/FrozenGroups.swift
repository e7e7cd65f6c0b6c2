import NeuroODE

/// Any gradient method with only some parameter groups trained (README "ES variants"): the
/// base method's gradient is kept on the `trained` groups and zeroed elsewhere, and
/// ``GradientEstimate/updatedEntries`` names the trained groups, so the optimizer never moves the
/// others (not even by AdamW's decay).
///
/// The base method still computes the frozen groups' gradient (BPTT's backward pass yields every
/// group's at once); ``HybridEvolutionStrategy`` handles its own frozen groups and skips their work.
public struct FrozenGroups: GradientMethod {
    /// The method whose gradient is restricted.
    public var base: any GradientMethod
    /// The groups trained; every other group is frozen.
    public var trained: [String]

    /// `base` restricted to the `trained` groups.
    public init(base: any GradientMethod, trained: [String]) {
        self.base = base
        self.trained = trained
    }

    public var name: String { base.name }

    /// Checks that every trained group exists.
    public func validate(groups: [ParameterGroup]) throws(TrainingError) {
        guard !trained.isEmpty else { throw .invalidOption(name: "parameter groups", value: "none", reason: "no group is trained") }
        for name in trained where !groups.contains(where: { $0.name == name }) {
            throw .invalidOption(name: "parameter group", value: name, reason: "unknown; the groups are \(groups.map(\.name).joined(separator: ", "))")
        }
    }

    public func estimate<System, Method, Loss>(
        _ task: TrainingTask<System, Method, Loss>, at theta: [Double], iteration: Int
    ) throws -> GradientEstimate {
        let groups = try ParameterGroup.groups(of: task)
        try validate(groups: groups)
        var estimate = try base.estimate(task, at: theta, iteration: iteration)
        guard estimate.gradient.count == theta.count else {
            throw ODEError.dimensionMismatch(what: "gradient of \(task.name) by \(base.name)", expected: theta.count, actual: estimate.gradient.count)
        }
        let kept = groups.filter { trained.contains($0.name) }.map(\.range)
        var gradient = [Double](repeating: 0, count: estimate.gradient.count)
        for range in kept {
            for i in range { gradient[i] = estimate.gradient[i] }
        }
        estimate.gradient = gradient
        estimate.updatedEntries = kept
        return estimate
    }
}
