import Foundation
import Gradients
import NeuroODE

/// A JSON value of a `stats` entry.
public enum JSONValue: Sendable {
    case number(Double)
    case integer(Int)
    case unsigned(UInt64)
    case string(String)
    case boolean(Bool)
    /// Rows of numbers, e.g. `[[t, distance], …]`.
    case rows([[Double]])

    /// The value as JSON text.
    public var json: String {
        switch self {
        case let .number(value): TrajectoryOutput.number(value)
        case let .integer(value): String(value)
        case let .unsigned(value): String(value)
        case let .string(value): TrajectoryOutput.string(value)
        case let .boolean(value): value ? "true" : "false"
        case let .rows(rows):
            "[" + rows.map { "[" + $0.map(TrajectoryOutput.number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
        }
    }

    /// The value for people: strings without quotes.
    public var plain: String {
        if case let .string(value) = self { return value }
        return json
    }
}

/// A finished gradient evaluation in the two forms `gradient` prints.
///
/// Numbers use Swift's shortest round-trip representation, as in `simulate`'s files, so a
/// gradient read back from the JSON is exactly the Double that was computed.
public struct GradientOutput {
    public let task: String
    /// The task's settings in words, for the text summary.
    public let taskDescription: String
    public let method: GradientMethodSettings
    public let parameterNames: [String]
    public let estimate: GradientEstimate
    /// Where the estimate came from, for the JSON document.
    public let provenance: Provenance

    /// Entries listed by the text summary before it refers to `--format json`.
    public static let maximumListedEntries = 12

    public var gradientNorm: Double {
        euclideanNorm(estimate.gradient)
    }

    /// The full adjoint's first drift sample past the default tolerance (only `--allow-drift` lets
    /// such an estimate through), or nil.
    public var divergedDrift: DriftSample? {
        estimate.report.drift.first { !($0.relativeDistance <= AdjointMethod.defaultDriftTolerance) }
    }

    /// Every counter of the report, `gradientNorm`, and the method's settings. `drift` appears
    /// for the full adjoint only, as `[[t, distance], …]` from the end of the horizon back.
    public var statistics: [(key: String, value: JSONValue)] {
        let report = estimate.report
        var entries: [(key: String, value: JSONValue)] = [
            ("bytesStored", .integer(report.bytesStored)),
            ("forwardSolves", .integer(report.forwardSolves)),
            ("rightHandSideEvaluations", .integer(report.rightHandSideEvaluations)),
            ("vectorJacobianProducts", .integer(report.vectorJacobianProducts)),
            ("failedSamples", .integer(report.failedSamples)),
            ("wallTime", .number(report.wallTime)),
        ]
        if method.kind == .adjointFull {
            entries.append(("drift", .rows(report.drift.map { [$0.time, $0.distance] })))
            entries.append(("diverged", .boolean(divergedDrift != nil)))
        }
        entries.append(("gradientNorm", .number(gradientNorm)))
        return entries + method.statistics
    }

    /// One JSON document (``Provenance/encoder``): `task`, `method`, `loss`, `parameterNames`
    /// (the task's order), `gradient` (parameter name → value), `stats` and `provenance`.
    public func json() -> String {
        Provenance.json(Document(
            task: task, method: method.kind.rawValue, loss: estimate.loss, parameterNames: parameterNames,
            gradient: Dictionary(zip(parameterNames, estimate.gradient), uniquingKeysWith: { first, _ in first }),
            stats: Dictionary(statistics, uniquingKeysWith: { first, _ in first }), provenance: provenance))
    }

    private struct Document: Encodable {
        let task, method: String
        let loss: Double
        let parameterNames: [String]
        let gradient: [String: Double]
        let stats: [String: JSONValue]
        let provenance: Provenance
    }

    /// A short summary for people: the loss, the gradient (its largest entries when there are
    /// many) and what it cost.
    public func text() -> String {
        let report = estimate.report
        let count = estimate.gradient.count
        var text = "\(task) (\(taskDescription)), \(method.kind.rawValue)\n"
        text += "loss: \(TrajectoryOutput.number(estimate.loss))\n"
        text += "gradient norm: \(TrajectoryOutput.number(gradientNorm)) over \(count) parameter\(count == 1 ? "" : "s")\n"
        var listed = Array(estimate.gradient.indices)
        if count > Self.maximumListedEntries {
            listed = Array(listed.sorted { abs(estimate.gradient[$0]) > abs(estimate.gradient[$1]) }.prefix(Self.maximumListedEntries))
            text += "largest \(listed.count) entries (all \(count) with --format json):\n"
        }
        let width = listed.map { parameterNames[$0].count }.max() ?? 0
        for index in listed {
            let name = parameterNames[index]
            text += "  \(name)\(String(repeating: " ", count: width - name.count))  \(TrajectoryOutput.number(estimate.gradient[index]))\n"
        }
        text += "cost: \(report.forwardSolves) forward solve\(report.forwardSolves == 1 ? "" : "s"), "
        text += "\(report.rightHandSideEvaluations) right-hand sides, \(report.vectorJacobianProducts) vector–Jacobian products, "
        text += "\(report.bytesStored) bytes stored, \(String(format: "%.3g", report.wallTime)) s\n"
        if method.kind == .es, report.failedSamples > 0 {
            text += "failed samples: \(report.failedSamples)\n"
        }
        if method.kind == .adjointFull, let worst = report.drift.max(by: { $0.distance < $1.distance }) {
            text += "backsolve drift: largest ‖y_backward − y_forward‖ = \(TrajectoryOutput.number(worst.distance)) at t = \(TrajectoryOutput.number(worst.time))\n"
        }
        if let diverged = divergedDrift {
            text += "DIVERGED: the backsolve's relative drift \(TrajectoryOutput.number(diverged.relativeDistance)) at t = \(TrajectoryOutput.number(diverged.time)) exceeds the tolerance (allowed by --allow-drift): this gradient is unreliable\n"
        }
        let settings = method.statistics.map { "\($0.key) \($0.value.plain)" }
        text += "settings: \(settings.joined(separator: ", "))\n"
        return text
    }

    /// Sets every stored property.
    public init(
        task: String, taskDescription: String, method: GradientMethodSettings, parameterNames: [String], estimate: GradientEstimate,
        provenance: Provenance = .current()
    ) {
        self.task = task
        self.taskDescription = taskDescription
        self.method = method
        self.parameterNames = parameterNames
        self.estimate = estimate
        self.provenance = provenance
    }
}
