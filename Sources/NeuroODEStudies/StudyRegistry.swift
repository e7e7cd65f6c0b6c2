import Foundation

/// One registry from names to everything a `neuroode` command can run: the models `simulate`
/// knows, the training problems of `compare` and `train`, the tasks of `gradient`, and the names
/// of the integrators and gradient methods.
///
/// It starts with the built-in entries (``ModelCatalog``, ``TrainingCatalog``,
/// ``GradientTaskCatalog``). A program that links this library — the custom-model example, or a
/// user's own command-line tool that calls the `neuroode` commands — registers its own model once,
/// before parsing, and every command then lists and runs it like a built-in one (Gradients
/// DocC article "Adding your own model").
///
/// Registration is safe from any thread; names are unique within each kind.
public final class StudyRegistry: @unchecked Sendable {
    /// The process's registry.
    public static let shared = StudyRegistry()

    private let lock = NSLock()
    private var modelEntries = ModelCatalog.builtIn
    private var problemEntries = TrainingCatalog.builtIn
    private var taskEntries = GradientTaskCatalog.builtIn

    public init() {}

    /// The models of `simulate`, built-in first.
    public var models: [ModelEntry] { lock.withLock { modelEntries } }
    /// The problems of `compare` and `train`, built-in first.
    public var trainingProblems: [TrainingEntry] { lock.withLock { problemEntries } }
    /// The tasks of `gradient`, built-in first.
    public var gradientTasks: [GradientTaskEntry] { lock.withLock { taskEntries } }
    /// The integrators' command-line names.
    public var integrators: [String] { IntegratorKind.allCases.map(\.rawValue) }
    /// The methods' command-line names (gradient methods, then CMA-ES).
    public var methods: [String] { CompareMethod.names }

    /// Adds a model to `simulate` (and `list`); a name already taken is refused.
    public func register(model entry: ModelEntry) throws(CommandLineError) {
        lock.lock()
        defer { lock.unlock() }
        try Self.refuseDuplicate(entry.name, in: modelEntries.map(\.name), kind: "model")
        modelEntries.append(entry)
    }

    /// Adds a training problem to `compare` and `train`; a name already taken is refused.
    public func register(trainingProblem entry: TrainingEntry) throws(CommandLineError) {
        lock.lock()
        defer { lock.unlock() }
        try Self.refuseDuplicate(entry.name, in: problemEntries.map(\.name), kind: "task")
        problemEntries.append(entry)
    }

    /// Adds a task to `gradient`; a name already taken is refused.
    public func register(gradientTask entry: GradientTaskEntry) throws(CommandLineError) {
        lock.lock()
        defer { lock.unlock() }
        try Self.refuseDuplicate(entry.name, in: taskEntries.map(\.name), kind: "task")
        taskEntries.append(entry)
    }

    private static func refuseDuplicate(_ name: String, in names: [String], kind: String) throws(CommandLineError) {
        guard !name.isEmpty, !names.contains(name) else {
            throw .invalidValue(option: "register", value: name, reason: "a \(kind) of that name is already registered (or the name is empty)")
        }
    }
}
