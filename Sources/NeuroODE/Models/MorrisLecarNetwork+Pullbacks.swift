import CKernels
import CSundials

/// Exact pullbacks of the network's leapfrog coefficients, so that BPTT differentiates the
/// discrete network map (SCIENCE.md "Gradient methods").
///
/// The neuron constants are fixed, so θ̄ collects only the trained quantities: W_in, W_rec, bias,
/// gain and I_bias. The input u(t) is data. With A = W_rec·T(V) + W_in·u and S = gain·(bias + A),
///
///     G = gL + gCa·m∞(V) + gK·w,   E = gL·VL + I_bias + S + gCa·m∞(V)·VCa + gK·w·VK,
///
/// so Ē flows into S̄ = Ē and from there:
///
///     V̄ += gain·T′(V) ⊙ (W_recᵀ Ē)        (one dgemm, N×N by N×B)
///     W̄_rec += gain·Ē·T(V)ᵀ                (rank-B update, one dgemm into θ̄'s slice)
///     W̄_in += gain·Ē·uᵀ                    (for tokens: gain·(Ē summed per token)·vocabulary)
///     b̄ias_i += gain·Σ_b Ē_ib,   Ī_bias += Σ Ē,   ḡain += Σ Ē ⊙ (bias + A).
///
/// ḡain's recurrent part Σ Ē ⊙ (W_rec T) equals Σ (W_recᵀĒ) ⊙ T, which reuses the product
/// already formed for V̄ instead of recomputing W_rec·T.
///
/// **Scratch** (``pullbackScratchCount``, caller-allocated): W_recᵀĒ and T(V) (N × B each), B ones
/// and N row sums for the per-neuron sums, and the input term's workspace: for token inputs Ē
/// summed per token and W_in·vocabularyᵀ (N × K each), otherwise W_in·u (N × B). All reductions
/// go through BLAS (`ddot`, `dgemv`), so the element-wise loops carry no dependency and vectorise.
extension MorrisLecarNetwork: ConductanceBasedPullbacks {
    public var pullbackScratchCount: Int {
        3 * compartments + batchSize + neurons + inputWorkspaceCount
    }

    /// Doubles of scratch the input term's pullback needs.
    private var inputWorkspaceCount: Int {
        guard inputs > 0 else { return 0 }
        switch inputTable {
        case .dense: return compartments
        case let .tokens(_, size, _): return 2 * neurons * size
        }
    }

    public func accumulateGateKineticsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyStateCotangent: UnsafeBufferPointer<Double>, timeConstantCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        // The gate constants are not parameters of the network: only V̄ receives anything.
        var k = NetworkKinetics(neuronConstants).kernelConstants
        nk_ml_gate_kinetics_pullback_f64(
            voltages.baseAddress!, steadyStateCotangent.baseAddress!, timeConstantCotangent.baseAddress!,
            voltageCotangent.baseAddress!, compartments, &k)
    }

    public func accumulateMembraneCoefficientsPullback(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductanceCotangent: UnsafeBufferPointer<Double>, driveCotangent: UnsafeBufferPointer<Double>,
        voltageCotangent: UnsafeMutableBufferPointer<Double>, gateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let nb = compartments, batch = batchSize
        let n32 = Int32(neurons), b32 = Int32(batch)
        let base = p.baseAddress!, theta = parameterCotangent.baseAddress!
        let v = voltages.baseAddress!
        let gBar = conductanceCotangent.baseAddress!, eBar = driveCotangent.baseAddress!
        let vBar = voltageCotangent.baseAddress!, wBar = gateCotangent.baseAddress!
        let recurrentBar = scratch.baseAddress!          // W_recᵀĒ, N × B
        let synaptic = recurrentBar + nb                 // T(V), N × B
        let ones = synaptic + nb                         // B ones
        let rowSums = ones + batch                       // Σ_b Ē_ib, N
        let workspace = rowSums + neurons                // the input term's
        let gain = p[gainIndex]

        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n32, b32, n32, 1,
                    base + recurrentWeightsOffset, n32, eBar, b32, 0, recurrentBar, b32)

        var k = NetworkKinetics(neuronConstants).kernelConstants
        nk_ml_membrane_pullback_f64(
            v, gBar, eBar, recurrentBar, synaptic, vBar, wBar, nb, gain, synapse.threshold, synapse.slope, &k)

        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n32, n32, b32, gain,
                    eBar, b32, synaptic, b32, 1, theta + recurrentWeightsOffset, n32)
        var gainBar = cblas_ddot(Int32(nb), recurrentBar, 1, synaptic, 1)
        gainBar += accumulateInputPullback(at: t, parameters: p, driveCotangent: eBar, theta: theta, workspace: workspace)

        for b in 0..<batch { ones[b] = 1 }
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n32, b32, 1, eBar, b32, ones, 1, 0, rowSums, 1)
        var currentBar = 0.0
        for i in 0..<neurons {
            theta[biasOffset + i] += gain * rowSums[i]
            gainBar += p[biasOffset + i] * rowSums[i]
            currentBar += rowSums[i]
        }
        theta[gainIndex] += gainBar
        theta[biasCurrentIndex] += currentBar
    }

    /// Adds gain·Ē·uᵀ into W̄_in and returns Σ Ē ⊙ (W_in·u), the input's share of ḡain.
    private func accumulateInputPullback(
        at t: Double, parameters p: UnsafeBufferPointer<Double>, driveCotangent eBar: UnsafePointer<Double>,
        theta: UnsafeMutablePointer<Double>, workspace: UnsafeMutablePointer<Double>
    ) -> Double {
        guard inputs > 0 else { return 0 }
        let n32 = Int32(neurons), b32 = Int32(batchSize), m32 = Int32(inputs)
        let base = p.baseAddress!, gain = p[gainIndex]
        let segment = input.segmentIndex(at: t)
        switch inputTable {
        case let .dense(table):
            return table.withUnsafeBufferPointer { table in
                let u = table.baseAddress! + segment * inputs * batchSize
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n32, m32, b32, gain, eBar, b32, u, b32, 1, theta, m32)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, b32, m32, 1, base, m32, u, b32, 0, workspace, b32)
                return cblas_ddot(Int32(compartments), eBar, 1, workspace, 1)
            }
        case let .tokens(vocabulary, size, tokens):
            // Ē summed over the trials that see each token (N × K), then one small product each way.
            let perToken = workspace, projected = workspace + neurons * size
            perToken.update(repeating: 0, count: neurons * size)
            tokens.withUnsafeBufferPointer { tokens in
                let row = tokens.baseAddress! + segment * batchSize
                for i in 0..<neurons {
                    let sums = perToken + i * size, e = eBar + i * batchSize
                    for trial in 0..<batchSize { sums[Int(row[trial])] += e[trial] }
                }
            }
            let k32 = Int32(size)
            return vocabulary.withUnsafeBufferPointer { vocabulary in
                let vocabulary = vocabulary.baseAddress!
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, m32, k32, gain,
                            perToken, k32, vocabulary, m32, 1, theta, m32)
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n32, k32, m32, 1,
                            base, m32, vocabulary, m32, 0, projected, k32)
                return cblas_ddot(n32 * k32, perToken, 1, projected, 1)
            }
        }
    }

    public func accumulateCapacitancePullback(
        parameters: UnsafeBufferPointer<Double>, cotangent: Double, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        // C is a fixed neuron constant, not a network parameter.
    }
}
