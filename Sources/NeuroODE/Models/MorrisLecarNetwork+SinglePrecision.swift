import CKernels
import CSundials

/// The network's float32 leapfrog (``Leapfrog`` with ``Precision/f32``): the float64 scheme step
/// for step, with the state, weights and synaptic products in float32 (`sgemm`) and the
/// element-wise work in the fused kernels of NeuroODEKernels.h. Used by forward-only methods (ES,
/// simulation); the scheme's accuracy (second order at Δt = 0.1 ms) is unchanged, the rounding
/// floor rises from about 1e−16 to 6e−8 relative per operation (README, "Precision").
///
/// Differences from the float64 path, all below float32 resolution at physiological voltages: the
/// exponential is a [3/3] Padé approximant (relative error below 1e−7), and the gate exponent is
/// clamped at ±9 instead of ±50 (|V − V3| > 18·V4, beyond 300 mV for the snic preset), where
/// tanh 2z is ±1 in float32. The input projection W_in·u of token inputs is formed once per solve.
extension MorrisLecarNetwork: SinglePrecisionLeapfrogSystem {
    public func integrateSinglePrecision(
        initialState y0: [Double], parameters p: [Double], timeSpan: (start: Double, end: Double), stepSize dt: Double,
        extrapolate: Bool, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        let (t0, tEnd) = timeSpan
        let steps = try FixedStepCount.covering(span: tEnd - t0, stepSize: dt)
        func time(_ k: Int) -> Double { k >= steps ? tEnd : t0 + Double(k) * dt }
        let nb = compartments, n = neurons, b = batchSize, m = inputs
        let observing = recorder.observesSteps
        var kinetics = NetworkKinetics(neuronConstants).kernelConstants
        let capacitance = Float(neuronConstants[0])
        let gain = Float(p[gainIndex])
        let threshold = Float(synapse.threshold), minusInverseSlope = Float(-1 / synapse.slope)

        // Float32 workspace: state, its history, the step's scratch, weights and input; float64 only
        // for what the recorder reads.
        let tokenTable = inputTable.tokenProjectionSize
        let denseCount = inputTable.denseCount
        let floats = 7 * nb + n + n * n + n * m + n * tokenTable + denseCount
        let storage = UnsafeMutableBufferPointer<Float>.allocate(capacity: floats)
        defer { storage.deallocate() }
        var cursor = storage.baseAddress!
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { cursor += count }
            return cursor
        }
        let v = take(nb), gates = take(nb), lastV = take(nb), midV = take(nb)
        let synaptic = take(nb), drive = take(nb), savedGates = take(nb)
        let constant = take(n), recurrent = take(n * n), inputWeights = take(n * m)
        let projection = take(n * tokenTable), dense = take(denseCount)
        let reports = UnsafeMutableBufferPointer<Double>.allocate(capacity: observing ? 3 * dimension : 0)
        defer { reports.deallocate() }
        var previous = UnsafeMutableBufferPointer(rebasing: reports[0..<(observing ? dimension : 0)])
        var current = UnsafeMutableBufferPointer(rebasing: reports[(observing ? dimension : 0)..<(observing ? 2 * dimension : 0)])
        let interpolated = UnsafeMutableBufferPointer(rebasing: reports[(observing ? 2 * dimension : 0)...])

        for j in 0..<nb {
            v[j] = Float(y0[j])
            gates[j] = Float(y0[nb + j])
            lastV[j] = v[j]
        }
        p.withUnsafeBufferPointer { p in
            for i in 0..<n { constant[i] = Float(constantCurrent(i, p) + kinetics.leakDrive) }
        }
        for j in 0..<(n * n) { recurrent[j] = Float(p[recurrentWeightsOffset + j]) }
        for j in 0..<(n * m) { inputWeights[j] = Float(p[j]) }
        inputTable.writeSinglePrecision(
            inputWeights: UnsafePointer(inputWeights), neurons: n, inputs: m, gain: gain, projection: projection, dense: dense)

        /// The reported state at a full step: V and the mean of the two half-step gates, `gates` and
        /// `otherGates` (the half step before or after it).
        func report(into buffer: UnsafeMutableBufferPointer<Double>, otherGates: UnsafePointer<Float>) {
            for j in 0..<nb {
                buffer[j] = Double(v[j])
                buffer[nb + j] = 0.5 * (Double(gates[j]) + Double(otherGates[j]))
            }
        }
        func emitOutputs(_ ta: Double, _ tb: Double) {
            recorder.recordLinearOutputs(
                from: ta, previous: UnsafeBufferPointer(previous), to: tb, current: UnsafeBufferPointer(current), scratch: interpolated)
        }

        // Initial stagger x_{−½} = x₀ + h/(2τ)(x₀ − x∞), so that the reported x̄₀ is x₀.
        var hPrevious = time(1) - t0
        nk_ml_gate_kinetics_f32(v, synaptic, drive, nb, &kinetics)
        let halfStep = Float(hPrevious)
        for j in 0..<nb { gates[j] += halfStep / (2 * drive[j]) * (gates[j] - synaptic[j]) }
        if observing { for i in 0..<dimension { previous[i] = y0[i] } }
        y0.withUnsafeBufferPointer { recorder.start(at: t0, state: $0) }

        var statistics = SolverStatistics()
        var hasHistory = false
        for k in 0..<steps {
            let tk = time(k), h = time(k + 1) - tk
            let reporting = observing && k > 0 && recorder.observes(stepEndingAt: tk)
            if observing, k > 0, !reporting { recorder.skipStep() }
            if reporting { savedGates.update(from: gates, count: nb) }
            nk_ml_gate_step_f32(v, gates, nb, Float(0.5 * (hPrevious + h)), &kinetics)
            if reporting {
                // x̄ₖ = (x_{k−½} + x_{k+½})/2: `gates` now holds x_{k+½}, `savedGates` x_{k−½}.
                report(into: current, otherGates: savedGates)
                recorder.observeStep(from: time(k - 1), previous: UnsafeBufferPointer(previous), to: tk, current: UnsafeBufferPointer(current))
                emitOutputs(time(k - 1), tk)
                swap(&previous, &current)
            }
            let slope = extrapolate && hasHistory ? 0.5 * h / hPrevious : 0
            hasHistory = extrapolate
            nk_ml_midpoint_f32(v, lastV, midV, synaptic, nb, Float(slope), threshold, minusInverseSlope)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(b), Int32(n), gain,
                        recurrent, Int32(n), synaptic, Int32(b), 0, drive, Int32(b))
            if m > 0 {
                addInput(segment: input.segmentIndex(at: tk + 0.5 * h), projection: projection, dense: dense,
                         inputWeights: inputWeights, gain: gain, into: drive)
            }
            let nonFinite = nk_ml_voltage_step_f32(v, midV, gates, drive, n, b, constant, Float(h), capacitance, &kinetics)
            guard nonFinite == 0 else { throw .nonFiniteState(time: time(k + 1), step: k + 1) }
            hPrevious = h
            statistics.steps += 1
            statistics.rightHandSideEvaluations += 1
        }
        // Close the last step: the gates one more (virtual) half step ahead give x̄ at tEnd.
        savedGates.update(from: gates, count: nb)
        nk_ml_gate_step_f32(v, savedGates, nb, Float(hPrevious), &kinetics)
        var final = [Double](repeating: 0, count: dimension)
        final.withUnsafeMutableBufferPointer { report(into: $0, otherGates: savedGates) }
        if observing {
            if recorder.observes(stepEndingAt: tEnd) {
                for i in 0..<dimension { current[i] = final[i] }
                recorder.observeStep(from: time(steps - 1), previous: UnsafeBufferPointer(previous), to: tEnd, current: UnsafeBufferPointer(current))
                emitOutputs(time(steps - 1), tEnd)
            } else {
                recorder.skipStep()
            }
        }
        final.withUnsafeBufferPointer { recorder.complete(at: tEnd, state: $0) }
        return statistics
    }

    /// Adds gain·W_in·u for `segment` to `current`: a gather from the per-solve projection table
    /// for token inputs, one `sgemm` with the segment's M × B matrix otherwise.
    @inline(__always)
    private func addInput(
        segment: Int, projection: UnsafePointer<Float>, dense: UnsafePointer<Float>, inputWeights: UnsafePointer<Float>,
        gain: Float, into current: UnsafeMutablePointer<Float>
    ) {
        switch inputTable {
        case let .tokens(_, size, tokens):
            tokens.withUnsafeBufferPointer { tokens in
                let row = tokens.baseAddress! + segment * batchSize
                for i in 0..<neurons {
                    let projected = projection + i * size, out = current + i * batchSize
                    for trial in 0..<batchSize { out[trial] += projected[Int(row[trial])] }
                }
            }
        case .dense:
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(neurons), Int32(batchSize), Int32(inputs), gain,
                        inputWeights, Int32(inputs), dense + segment * inputs * batchSize, Int32(batchSize), 1, current, Int32(batchSize))
        }
    }
}

extension MorrisLecar: SinglePrecisionLeapfrogSystem {
    /// The float32 leapfrog of one neuron: the network's, for a network of one neuron with this
    /// neuron's constants, no input and I as its constant current (every constant is read from
    /// `parameters`, so all of them stay trainable by forward-only methods).
    public func integrateSinglePrecision(
        initialState: [Double], parameters p: [Double], timeSpan: (start: Double, end: Double), stepSize: Double,
        extrapolate: Bool, recorder: inout TrajectoryRecorder
    ) throws(ODEError) -> SolverStatistics {
        let network = try MorrisLecarNetwork.singleNeuron(preset: preset, constants: Array(p[0..<12]))
        return try network.integrateSinglePrecision(
            initialState: initialState, parameters: [0, 0, 0, p[12]], timeSpan: timeSpan, stepSize: stepSize,
            extrapolate: extrapolate, recorder: &recorder)
    }
}

extension NetworkInputTable {
    /// K, the token count, for token inputs (the projection table is N × K); 0 for dense inputs.
    var tokenProjectionSize: Int {
        if case let .tokens(_, size, _) = self { return size }
        return 0
    }

    /// Entries of the dense table (0 for token inputs).
    var denseCount: Int {
        if case let .dense(table) = self { return table.count }
        return 0
    }

    /// Writes the float32 form the single-precision steps read: for tokens the N × K table
    /// gain·W_in·vocabularyᵀ (formed in float64, then rounded), for dense inputs the table itself.
    func writeSinglePrecision(
        inputWeights: UnsafePointer<Float>, neurons: Int, inputs: Int, gain: Float,
        projection: UnsafeMutablePointer<Float>, dense: UnsafeMutablePointer<Float>
    ) {
        switch self {
        case let .tokens(vocabulary, size, _):
            for i in 0..<neurons {
                for token in 0..<size {
                    var sum = 0.0
                    for j in 0..<inputs { sum += Double(inputWeights[i * inputs + j]) * vocabulary[token * inputs + j] }
                    projection[i * size + token] = Float(Double(gain) * sum)
                }
            }
        case let .dense(table):
            for j in table.indices { dense[j] = Float(table[j]) }
        }
    }
}
