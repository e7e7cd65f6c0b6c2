import Gradients

/// `--es-groups`, `--train-groups` and `--alternate`: which parameter groups a method perturbs,
/// trains by their exact gradient, or freezes (README "ES variants"), resolved against θ's groups
/// into a ``GradientMethodSettings``.
///
/// - `readout`: the loss's groups (evidence: W_out, b_out) by their exact gradient, the rest frozen.
/// - `hybrid`: ES on `--es-groups` (default: every group that is not the loss's), the loss's
///   groups by their exact gradient.
/// - `es`: ES on `--es-groups` (default: every trained group) and nothing else.
/// - any other method: its gradient on the `--train-groups` only (``FrozenGroups``).
///
/// `--train-groups` (default: every group the method reaches) freezes the others; a perturbed
/// group left out of it keeps its turn in the `--alternate` cycle without being perturbed or
/// updated (the authors' frozen W_rec).
public struct GroupOptions {
    public var perturbed: [String]?
    public var trained: [String]?
    public var alternates = false

    public init(perturbed: [String]? = nil, trained: [String]? = nil, alternates: Bool = false) {
        self.perturbed = perturbed
        self.trained = trained
        self.alternates = alternates
    }

    public var isEmpty: Bool { perturbed == nil && trained == nil && !alternates }

    /// Comma-separated names, or nil.
    public static func list(_ text: String?) -> [String]? {
        text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
    }

    /// Writes the groups of `kind` into `settings`, or throws naming the bad option and value.
    /// `readout` and the methods that are not ES read `--train-groups` only (the commands reject
    /// the ES options where no method of theirs reads them).
    public func apply(to settings: inout GradientMethodSettings, groups: [ParameterGroup]) throws(CommandLineError) {
        let kind = settings.kind
        // hybrid and readout always name their groups; the others only when asked to.
        if isEmpty, kind != .hybrid, kind != .readout { return }
        let names = groups.map(\.name)
        guard !names.isEmpty else {
            throw .inapplicable(option: trained != nil ? "--train-groups" : "--es-groups", reason: "the task's parameters form no named groups")
        }
        for (option, list) in [("--es-groups", perturbed), ("--train-groups", trained)] {
            guard let list else { continue }
            guard !list.isEmpty else { throw .invalidValue(option: option, value: "", reason: "name at least one group") }
            for name in list where !names.contains(name) {
                throw .unknownName(kind: "parameter group", name: name, choices: names)
            }
            if let twice = list.first(where: { name in list.filter { $0 == name }.count > 1 }) {
                throw .invalidValue(option: option, value: twice, reason: "listed twice")
            }
        }
        // Other methods compute every group's gradient; --train-groups keeps only the trained ones.
        guard kind.isEvolutionStrategy || kind == .readout else {
            guard let trained else { return }
            settings.trainedGroups = names.filter(trained.contains)
            return
        }
        let lossGroups = groups.filter(\.belongsToLoss).map(\.name)
        var cycle: [String], exact: [String]
        switch kind {
        case .readout:
            guard !lossGroups.isEmpty else {
                throw .invalidValue(option: "--method", value: "readout", reason: "the task has no readout (loss) parameters; its groups are \(names.joined(separator: ", "))")
            }
            cycle = []
            exact = trained.map { list in lossGroups.filter(list.contains) } ?? lossGroups
            if let stray = trained?.first(where: { !lossGroups.contains($0) }) {
                throw .invalidValue(option: "--train-groups", value: stray, reason: "readout trains only the loss's groups (\(lossGroups.joined(separator: ", "))); use es or hybrid for it")
            }
        case .hybrid:
            cycle = perturbed ?? names.filter { !lossGroups.contains($0) }
            exact = lossGroups.filter { !cycle.contains($0) && (trained?.contains($0) ?? true) }
        default:
            cycle = perturbed ?? trained ?? names
            exact = []
        }
        let trainedSet = trained ?? cycle + exact
        if let stray = trainedSet.first(where: { !cycle.contains($0) && !exact.contains($0) }) {
            throw .invalidValue(
                option: "--train-groups", value: stray,
                reason: "\(kind.rawValue) neither perturbs it (--es-groups) nor has its exact gradient (only the loss's groups: \(lossGroups.joined(separator: ", ")))")
        }
        settings.perturbedGroups = cycle
        settings.exactGroups = exact
        settings.frozenGroups = cycle.filter { !trainedSet.contains($0) }
        settings.alternates = alternates && !cycle.isEmpty
        settings.grouped = true
        do {
            try settings.groupedMethod().validate(groups: groups)
        } catch {
            throw .invalidValue(
                option: trained != nil ? "--train-groups" : "--es-groups", value: (trained ?? perturbed ?? []).joined(separator: ","),
                reason: error.description)
        }
    }
}
