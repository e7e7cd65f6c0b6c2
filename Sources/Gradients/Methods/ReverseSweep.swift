import Dispatch
import NeuroODE

/// Backpropagation through a ``DiscreteForwardMap``: the exact gradient of the discrete loss,
/// with optional checkpointing.
///
/// The loss sees the reported states through the trapezoid rule over the step grid (running
/// integrals, exactly as ``TrajectoryRecorder`` accumulates them) and through linear
/// interpolation at observation times. With checkpoint interval k the forward pass keeps every
/// k-th internal state and the reverse pass recomputes each segment before sweeping it: memory
/// falls from N+1 states to ⌈N/k⌉ + k, at the cost of about one extra forward pass (k > 1). The
/// arithmetic of the reverse pass is the same whatever k, so the gradients agree to rounding.
struct ReverseSweep<Map: DiscreteForwardMap, Loss: TaskLoss> {
    let map: Map
    let loss: Loss
    let lossParameters: [Double]
    let checkpointInterval: Int

    /// Loss, full θ̄ of the system, θ̄ of the loss, and the cost report.
    func run() throws(ODEError) -> (loss: Double, systemGradient: [Double], lossGradient: [Double], report: GradientReport) {
        let clock = DispatchTime.now().uptimeNanoseconds
        let n = map.stepCount, size = map.internalSize, dimension = map.dimension
        let k = max(1, min(checkpointInterval, n))
        let checkpointCount = (n + k - 1) / k
        var checkpoints = [Double](repeating: 0, count: checkpointCount * size)
        var segment = [Double](repeating: 0, count: k * size)
        var current = [Double](repeating: 0, count: size), next = current, final = current
        var reported = [Double](repeating: 0, count: dimension), previousReported = reported
        let q = loss.integrandCount
        var integrals = [Double](repeating: 0, count: q)
        var integrand = integrals, previousIntegrand = integrals
        let observationTimes = loss.observationTimes
        var observations = [Double](repeating: 0, count: observationTimes.count * dimension)
        let placement = ObservationPlacement(times: observationTimes, map: map)
        var report = GradientReport()

        // Forward pass.
        try current.withUnsafeMutableBufferPointer { (z) throws(ODEError) in try map.initialize(into: z) }
        for step in 0...n {
            if step < n {
                if step % k == 0 {
                    checkpoints.replaceSubrange((step / k * size)..<((step / k + 1) * size), with: current)
                }
                try Self.advance(map, step, &current, &next, &reported)
                swap(&current, &next)
            } else {
                final = current
                try final.withUnsafeBufferPointer { (z) throws(ODEError) in
                    try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in try map.terminalReport(from: z, reporting: y) }
                }
            }
            // `reported` now holds y_step.
            if q > 0 {
                let t = map.time(step)
                reported.withUnsafeBufferPointer { y in
                    integrand.withUnsafeMutableBufferPointer { loss.evaluateIntegrands(at: t, state: y, into: $0) }
                }
                if step > 0 {
                    let half = 0.5 * (t - map.time(step - 1))
                    for i in 0..<q { integrals[i] += half * (previousIntegrand[i] + integrand[i]) }
                }
                swap(&previousIntegrand, &integrand)
            }
            if step > 0 {
                for (index, (left, fraction)) in placement.entries.enumerated() where left == step - 1 {
                    for i in 0..<dimension {
                        observations[index * dimension + i] = previousReported[i] + fraction * (reported[i] - previousReported[i])
                    }
                }
            }
            swap(&previousReported, &reported)
        }
        report.rightHandSideEvaluations = n
        report.bytesStored = (checkpoints.count + segment.count) * MemoryLayout<Double>.stride

        // Seed: ∂Φ/∂Q, ∂Φ/∂Y, ∂Φ/∂θ_L.
        let seedGradient = loss.valueAndGradient(integrals: integrals, observations: observations, parameters: lossParameters)
        let weights = (0...n).map { step -> Double in
            let left = step > 0 ? map.time(step) - map.time(step - 1) : 0
            let right = step < n ? map.time(step + 1) - map.time(step) : 0
            return 0.5 * (left + right)
        }
        var scaled = seedGradient.integrals
        func seed(_ step: Int, _ y: UnsafeBufferPointer<Double>, _ yBar: UnsafeMutableBufferPointer<Double>) {
            if q > 0 {
                let t = map.time(step)
                for i in 0..<q { scaled[i] = seedGradient.integrals[i] * weights[step] }
                scaled.withUnsafeBufferPointer { loss.accumulateIntegrandPullback(at: t, state: y, cotangent: $0, into: yBar) }
            }
            for (index, (left, fraction)) in placement.entries.enumerated() where left == step || left == step - 1 {
                let weight = left == step ? 1 - fraction : fraction
                for i in 0..<dimension { yBar[i] += weight * seedGradient.observations[index * dimension + i] }
            }
        }

        // Reverse pass.
        var parameterBar = [Double](repeating: 0, count: map.parameterCount)
        var cotangent = [Double](repeating: 0, count: size)
        try parameterBar.withUnsafeMutableBufferPointer { (theta) throws(ODEError) in
            try cotangent.withUnsafeMutableBufferPointer { (bar) throws(ODEError) in
                try final.withUnsafeBufferPointer { (z) throws(ODEError) in
                    try map.pullbackTerminalReport(from: z, cotangent: bar, parameterCotangent: theta) { seed(n, $0, $1) }
                }
                for s in stride(from: checkpointCount - 1, through: 0, by: -1) {
                    let first = s * k, last = min(first + k, n)
                    // Recompute the segment from its checkpoint.
                    segment.replaceSubrange(0..<size, with: checkpoints[(s * size)..<((s + 1) * size)])
                    for j in 1..<max(1, last - first) {
                        try segment.withUnsafeMutableBufferPointer { (buffer) throws(ODEError) in
                            try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                                try map.step(
                                    first + j - 1, from: UnsafeBufferPointer(rebasing: buffer[((j - 1) * size)..<(j * size)]),
                                    to: UnsafeMutableBufferPointer(rebasing: buffer[(j * size)..<((j + 1) * size)]), reporting: y)
                            }
                        }
                    }
                    for step in stride(from: last - 1, through: first, by: -1) {
                        let j = step - first
                        try segment.withUnsafeBufferPointer { (buffer) throws(ODEError) in
                            try map.pullbackStep(
                                step, from: UnsafeBufferPointer(rebasing: buffer[(j * size)..<((j + 1) * size)]),
                                cotangent: bar, parameterCotangent: theta) { seed(step, $0, $1) }
                        }
                    }
                }
                try map.pullbackInitialize(cotangent: UnsafeBufferPointer(bar), parameterCotangent: theta)
            }
        }
        report.vectorJacobianProducts = n
        report.rightHandSideEvaluations += n + (k > 1 ? n - checkpointCount : 0)
        report.forwardSolves = 1
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return (seedGradient.value, parameterBar, seedGradient.parameters, report)
    }

    private static func advance(_ map: Map, _ step: Int, _ current: inout [Double], _ next: inout [Double], _ reported: inout [Double]) throws(ODEError) {
        try current.withUnsafeBufferPointer { (z) throws(ODEError) in
            try next.withUnsafeMutableBufferPointer { (zNext) throws(ODEError) in
                try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                    try map.step(step, from: z, to: zNext, reporting: y)
                }
            }
        }
    }
}

/// Where each observation time falls on the step grid: the step n with tₙ ≤ τ ≤ tₙ₊₁ and the
/// linear-interpolation fraction, matching how integrators sample fixed-step output.
struct ObservationPlacement {
    let entries: [(left: Int, fraction: Double)]

    init(times: [Double], map: some DiscreteForwardMap) {
        var entries: [(Int, Double)] = []
        var step = 0
        for tau in times {
            while step < map.stepCount - 1, map.time(step + 1) < tau { step += 1 }
            let a = map.time(step), b = map.time(step + 1)
            entries.append((step, b == a ? 1 : (tau - a) / (b - a)))
        }
        self.entries = entries
    }
}
