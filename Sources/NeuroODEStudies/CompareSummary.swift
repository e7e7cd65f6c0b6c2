import Foundation

extension CompareReport {
    /// `compare`'s summary.json as a document: written by ``Provenance/json(_:)``.
    public struct Summary: Encodable {
        public struct Optimizer: Encodable {
            public let name: String
            public let learningRate: Double
        }

        public struct Target: Encodable {
            public let quantity: String
            public let threshold: Double
            public let higherIsBetter: Bool
        }

        public struct StoppedRun: Encodable {
            public let run: Int
            public let reason: String
        }

        /// One method over every run. Absent values are written as `null`.
        public struct Method: Encodable {
            public let method: String
            public let settings: [String: JSONValue]
            public let maxGradientNorm: Double?
            public let finalLoss: Spread?
            public let bestLoss: Spread?
            /// Whether the task has a held-out metric (then `finalTestMetric` and `bestTestMetric`
            /// are written).
            let hasMetric: Bool
            public let finalTestMetric: Spread?
            public let bestTestMetric: Spread?
            public let runsReachingTarget: Int
            public let iterationsToTarget: [Int?]
            public let secondsToTarget: [Double?]
            public let wallSeconds: Spread?
            public let peakBytes: Int?
            public let bytesStored: Int
            public let skippedIterations: Int
            public let rollbacks: Int
            public let stoppedRuns: [StoppedRun]
            /// Each run's θ at its end, by parameter name (`null`: the run kept none).
            public let learnedParameters: [[String: Double]?]

            enum CodingKeys: String, CodingKey {
                case method, settings, maxGradientNorm, finalLoss, bestLoss, finalTestMetric, bestTestMetric, runsReachingTarget
                case iterationsToTarget, secondsToTarget, wallSeconds, peakBytes, bytesStored, skippedIterations, rollbacks
                case stoppedRuns, learnedParameters
            }

            public func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(method, forKey: .method)
                try container.encode(settings, forKey: .settings)
                try container.encode(maxGradientNorm, forKey: .maxGradientNorm)
                try container.encode(finalLoss, forKey: .finalLoss)
                try container.encode(bestLoss, forKey: .bestLoss)
                if hasMetric {
                    try container.encode(finalTestMetric, forKey: .finalTestMetric)
                    try container.encode(bestTestMetric, forKey: .bestTestMetric)
                }
                try container.encode(runsReachingTarget, forKey: .runsReachingTarget)
                try container.encode(iterationsToTarget, forKey: .iterationsToTarget)
                try container.encode(secondsToTarget, forKey: .secondsToTarget)
                try container.encode(wallSeconds, forKey: .wallSeconds)
                try container.encode(peakBytes, forKey: .peakBytes)
                try container.encode(bytesStored, forKey: .bytesStored)
                try container.encode(skippedIterations, forKey: .skippedIterations)
                try container.encode(rollbacks, forKey: .rollbacks)
                try container.encode(stoppedRuns, forKey: .stoppedRuns)
                try container.encode(learnedParameters, forKey: .learnedParameters)
            }
        }

        public let task: String
        public let paper: Bool
        public let problemConfiguration: AnyEncodable
        /// θ's size and entry names.
        public let parameters: Int
        public let parameterNames: [String]
        public let seed: UInt64
        public let runs: Int
        public let iterations: Int
        public let optimizer: Optimizer
        public let testMetric: String?
        public let target: Target
        public let methods: [Method]
        public let provenance: Provenance

        enum CodingKeys: String, CodingKey {
            case task, paper, problemConfiguration, parameters, parameterNames, seed, runs, iterations, optimizer, testMetric
            case target, methods, provenance
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(task, forKey: .task)
            try container.encode(paper, forKey: .paper)
            try container.encode(problemConfiguration, forKey: .problemConfiguration)
            try container.encode(parameters, forKey: .parameters)
            try container.encode(parameterNames, forKey: .parameterNames)
            try container.encode(seed, forKey: .seed)
            try container.encode(runs, forKey: .runs)
            try container.encode(iterations, forKey: .iterations)
            try container.encode(optimizer, forKey: .optimizer)
            try container.encode(testMetric, forKey: .testMetric)
            try container.encode(target, forKey: .target)
            try container.encode(methods, forKey: .methods)
            try container.encode(provenance, forKey: .provenance)
        }
    }
}

/// A value of any Encodable type, encoded as itself (a problem's configuration inside a summary).
public struct AnyEncodable: Encodable {
    private let value: any Encodable

    public init(_ value: any Encodable) {
        self.value = value
    }

    public func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }
}
