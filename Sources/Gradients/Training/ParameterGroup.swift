import NeuroODE

/// A named, contiguous block of θ — one weight matrix or bias vector — the unit that the hybrid
/// evolution strategy perturbs, alternates over, trains exactly or freezes (README "ES variants").
///
/// Groups come from θ's entry names: `W_in[3,4]` belongs to group `W_in`, a name without a
/// bracket is a group of its own. The evidence task's groups are W_in, W_rec, W_out and b_out, in
/// that order; W_out and b_out are the loss's own parameters (the readout).
public struct ParameterGroup: Sendable, Equatable, Codable {
    /// The group's name: the entry names' common prefix before `[`.
    public var name: String
    /// The group's entries in θ.
    public var range: Range<Int>
    /// Whether the entries are the loss's own parameters (they follow the system's in θ), whose
    /// exact gradient a single forward pass gives (``HybridEvolutionStrategy``).
    public var belongsToLoss: Bool

    /// A group from its fields.
    public init(name: String, range: Range<Int>, belongsToLoss: Bool) {
        self.name = name
        self.range = range
        self.belongsToLoss = belongsToLoss
    }

    /// The groups of θ from its entry names, in θ's order; entries from `lossStart` on are the
    /// loss's parameters.
    ///
    /// - Throws: ``TrainingError/invalidOption(name:value:reason:)`` when a group's entries are not
    ///   contiguous or a group straddles the boundary between system and loss parameters.
    public static func partition(names: [String], lossStart: Int) throws(TrainingError) -> [ParameterGroup] {
        var groups: [ParameterGroup] = []
        for (index, entry) in names.enumerated() {
            let name = entry.firstIndex(of: "[").map { String(entry[..<$0]) } ?? entry
            if let last = groups.last, last.name == name {
                guard (index >= lossStart) == last.belongsToLoss else {
                    throw .invalidOption(name: "parameter group", value: name, reason: "it holds both system and loss parameters")
                }
                groups[groups.count - 1].range = last.range.lowerBound..<(index + 1)
                continue
            }
            if groups.contains(where: { $0.name == name }) {
                throw .invalidOption(name: "parameter group", value: name, reason: "its entries are not contiguous in θ")
            }
            groups.append(ParameterGroup(name: name, range: index..<(index + 1), belongsToLoss: index >= lossStart))
        }
        return groups
    }

    /// The groups of a task's θ (trained system parameters, then the loss's).
    public static func groups<System, Method, Loss>(of task: TrainingTask<System, Method, Loss>) throws(TrainingError) -> [ParameterGroup] {
        try partition(names: task.parameterNames, lossStart: task.trainedParameters.count)
    }
}

extension TrainingProblem {
    /// The groups of θ, from the task of iteration 0 (every iteration's task shares θ's layout).
    public func parameterGroups(seed: UInt64 = 0) throws -> [ParameterGroup] {
        try ParameterGroup.groups(of: task(iteration: 0, seed: seed))
    }
}
