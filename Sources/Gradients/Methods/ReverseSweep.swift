import Dispatch
import NeuroODE

/// Backpropagation through a ``DiscreteForwardMap``: the exact gradient of the discrete loss,
/// with optional checkpointing.
///
/// The loss sees the reported states through the trapezoid rule over the step grid (running
/// integrals, exactly as ``TrajectoryRecorder`` accumulates them) and through linear
/// interpolation at observation times. With checkpoint interval k the forward pass keeps every
/// k-th internal state and the reverse pass recomputes each segment before sweeping it: memory
/// falls from N stored states to ⌈N/k⌉ + k − 1, at the cost of about one extra forward pass
/// (k > 1). The arithmetic of the reverse pass is the same whatever k, so the gradients agree to
/// rounding.
struct ReverseSweep<Map: DiscreteForwardMap, Loss: TaskLoss> {
    let map: Map
    let loss: Loss
    let lossParameters: [Double]
    let checkpointInterval: Int

    /// Runs the forward and the reverse pass.
    ///
    /// No state is ever copied: the forward pass steps straight into the checkpoint slots (every
    /// step when k = 1) and otherwise between two work slots, and the reverse pass steps each
    /// segment out of its checkpoint in place. The stores are left uninitialised until written,
    /// so the trajectory's memory is touched once, by the steps themselves.
    func run() throws(ODEError) -> SweepOutcome {
        let clock = DispatchTime.now().uptimeNanoseconds
        let n = map.stepCount, size = map.internalSize, dimension = map.dimension
        let k = max(1, min(checkpointInterval, n))
        let checkpointCount = (n + k - 1) / k
        // Checkpoints z_0, z_k, …; segment slots z_{first+1} … z_{first+k−1}; two forward work slots.
        let checkpoints = StateSlots(count: checkpointCount, size: size)
        let segment = StateSlots(count: k - 1, size: size)
        let work = StateSlots(count: 2, size: size)
        defer {
            checkpoints.deallocate()
            segment.deallocate()
            work.deallocate()
        }
        var reported = [Double](repeating: 0, count: dimension), previousReported = reported
        let q = loss.integrandCount
        var integrals = [Double](repeating: 0, count: q)
        var integrand = integrals, previousIntegrand = integrals
        let observationTimes = loss.observationTimes
        var observations = [Double](repeating: 0, count: observationTimes.count * dimension)
        let placement = ObservationPlacement(times: observationTimes, map: map)
        var report = GradientReport()

        // Forward pass.
        try map.initialize(into: checkpoints[0])
        var current = UnsafeBufferPointer(checkpoints[0])
        var spare = 0
        for step in 0...n {
            if step < n {
                let next: UnsafeMutableBufferPointer<Double>
                if (step + 1) % k == 0, step + 1 < n {
                    next = checkpoints[(step + 1) / k]
                } else {
                    next = work[spare]
                    spare = 1 - spare
                }
                try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                    try map.step(step, from: current, to: next, reporting: y)
                }
                current = UnsafeBufferPointer(next)
            } else {
                try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                    try map.terminalReport(from: current, reporting: y)
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
        let final = current
        report.rightHandSideEvaluations = n
        report.bytesStored = (checkpointCount + k - 1) * size * MemoryLayout<Double>.stride

        // Seed: ∂Φ/∂Q, ∂Φ/∂Y, ∂Φ/∂θ_L.
        let seedGradient = loss.valueAndGradient(integrals: integrals, observations: observations, parameters: lossParameters)
        let weights = (0...n).map { step -> Double in
            let left = step > 0 ? map.time(step) - map.time(step - 1) : 0
            let right = step < n ? map.time(step + 1) - map.time(step) : 0
            return 0.5 * (left + right)
        }
        // Q̄ times the step's quadrature weight, rescaled only when the weight changes (on a
        // uniform grid: at the ends). Slot q holds the weight the first q are scaled by; a raw
        // buffer rather than captured arrays, which the seed would check for exclusive access
        // on every call.
        let scaled = UnsafeMutableBufferPointer<Double>.allocate(capacity: q + 1)
        defer { scaled.deallocate() }
        scaled[q] = .nan
        let integralsBar = seedGradient.integrals
        func seed(_ step: Int, _ y: UnsafeBufferPointer<Double>, _ yBar: UnsafeMutableBufferPointer<Double>) {
            if q > 0 {
                let t = map.time(step), weight = weights[step]
                if weight != scaled[q] {
                    for i in 0..<q { scaled[i] = integralsBar[i] * weight }
                    scaled[q] = weight
                }
                loss.accumulateIntegrandPullback(
                    at: t, state: y, cotangent: UnsafeBufferPointer(rebasing: scaled[0..<q]), into: yBar)
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
                try map.pullbackTerminalReport(from: final, cotangent: bar, parameterCotangent: theta) { seed(n, $0, $1) }
                for s in stride(from: checkpointCount - 1, through: 0, by: -1) {
                    let first = s * k, last = min(first + k, n)
                    // z_{first+j}: the checkpoint for j = 0, else segment slot j − 1.
                    func state(_ j: Int) -> UnsafeBufferPointer<Double> {
                        UnsafeBufferPointer(j == 0 ? checkpoints[s] : segment[j - 1])
                    }
                    // Recompute the segment from its checkpoint.
                    for j in 1..<(last - first) {
                        try reported.withUnsafeMutableBufferPointer { (y) throws(ODEError) in
                            try map.step(first + j - 1, from: state(j - 1), to: segment[j - 1], reporting: y)
                        }
                    }
                    for step in stride(from: last - 1, through: first, by: -1) {
                        try map.pullbackStep(step, from: state(step - first), cotangent: bar, parameterCotangent: theta) {
                            seed(step, $0, $1)
                        }
                    }
                }
                try map.pullbackInitialize(cotangent: UnsafeBufferPointer(bar), initialStateCotangent: nil, parameterCotangent: theta)
            }
        }
        report.vectorJacobianProducts = n
        report.rightHandSideEvaluations += n + (k > 1 ? n - checkpointCount : 0)
        report.forwardSolves = 1
        report.wallTime = Double(DispatchTime.now().uptimeNanoseconds - clock) * 1e-9
        return (seedGradient.value, parameterBar, seedGradient.parameters, report)
    }
}

/// `count` states of `size` doubles in one uninitialised allocation (doubles need no
/// initialisation, and every slot is written before it is read), owned by the caller.
private struct StateSlots {
    private let storage: UnsafeMutableBufferPointer<Double>
    private let size: Int

    init(count: Int, size: Int) {
        storage = .allocate(capacity: count * size)
        self.size = size
    }

    subscript(slot: Int) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(rebasing: storage[(slot * size)..<((slot + 1) * size)])
    }

    func deallocate() { storage.deallocate() }
}

/// What a reverse sweep returns: the loss, the full θ̄ of the system, θ̄ of the loss, and the cost report.
typealias SweepOutcome = (loss: Double, systemGradient: [Double], lossGradient: [Double], report: GradientReport)

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
