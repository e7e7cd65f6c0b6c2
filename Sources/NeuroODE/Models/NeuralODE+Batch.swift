import CSundials

/// The neural ODE over B stacked states with one `dgemm` per layer (README "Performance"): with the
/// states as the rows of a B × n matrix Y, layer l computes Z_l = A_{l−1}·W_lᵀ + 1·b_lᵀ and
/// A_l = σ(Z_l); the pullback forms W̄_l += Δ_lᵀ·A_{l−1}, b̄_l += Δ_lᵀ·1 and Δ_{l−1} = (Δ_l·W_l) ⊙ σ′.
/// The per-copy evaluation (``NeuralODE/evaluateRightHandSide(at:state:parameters:into:)``) is the
/// B = 1 case up to the order of the sums.
extension NeuralODE: BatchEvaluating {
    public func evaluateRightHandSide(
        copies b: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        ThreadScratch.withDoubles(pullbackCacheCount(copies: b)) { cache in
            batchForwardPass(copies: b, y, p, into: cache)
            writeOutput(copies: b, from: cache, into: dydt)
        }
    }

    public func accumulatePullback(
        copies b: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        ThreadScratch.withDoubles(pullbackCacheCount(copies: b)) { cache in
            batchForwardPass(copies: b, y, p, into: cache)
            batchBackwardPass(
                copies: b, y, p, cache: UnsafePointer(cache), cotangent: lambda, stateCotangent: stateCotangent,
                parameterCotangent: parameterCotangent)
        }
    }

    /// Z and A of every layer over the B copies, then the mapped input (B × n).
    public func pullbackCacheCount(copies b: Int) -> Int { 2 * activationCount * b + b * dimension }

    public func evaluateRightHandSide(
        copies b: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>, keeping cache: UnsafeMutableBufferPointer<Double>
    ) {
        batchForwardPass(copies: b, y, p, into: cache.baseAddress!)
        writeOutput(copies: b, from: cache.baseAddress!, into: dydt)
    }

    public func accumulatePullback(
        copies b: Int, at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>, stateCotangent: UnsafeMutableBufferPointer<Double>,
        parameterCotangent: UnsafeMutableBufferPointer<Double>, cached cache: UnsafeBufferPointer<Double>
    ) {
        batchBackwardPass(
            copies: b, y, p, cache: cache.baseAddress!, cotangent: lambda, stateCotangent: stateCotangent,
            parameterCotangent: parameterCotangent)
    }

    /// The output layer's activations, scaled, as the B right-hand sides.
    private func writeOutput(copies b: Int, from cache: UnsafeMutablePointer<Double>, into dydt: UnsafeMutableBufferPointer<Double>) {
        let n = dimension, a = cache + activationCount * b, last = activationOffsets[layerCount - 1] * b
        for row in 0..<b {
            for i in 0..<n { dydt[row * n + i] = outputScale[i] * a[last + row * n + i] }
        }
    }

    /// The pullback through the layers, from the forward pass's Z, A and mapped input in `cache`.
    private func batchBackwardPass(
        copies b: Int, _ y: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>, cache: UnsafePointer<Double>,
        cotangent lambda: UnsafeBufferPointer<Double>,
        stateCotangent: UnsafeMutableBufferPointer<Double>, parameterCotangent: UnsafeMutableBufferPointer<Double>
    ) {
        let n = dimension, widest = layerSizes.max()!, count = activationCount * b
        let z = cache, a = cache + count, input = a + count
        ThreadScratch.withDoubles(2 * b * widest) { scratch in
            var delta = scratch, upstream = scratch + b * widest
            let last = layerCount - 1
            for row in 0..<b {
                for i in 0..<n {
                    var d = outputScale[i] * lambda[row * n + i]
                    if finalActivation {
                        let k = activationOffsets[last] * b + row * n + i
                        d *= activationDerivative(z[k], a[k])
                    }
                    delta[row * n + i] = d
                }
            }
            for l in stride(from: last, through: 0, by: -1) {
                let fanIn = layerSizes[l], fanOut = layerSizes[l + 1]
                let weights = weightOffsets[l], biases = weights + fanOut * fanIn
                let previous = l == 0 ? input : a + activationOffsets[l - 1] * b
                let g = parameterCotangent.baseAddress!, w = p.baseAddress!
                // W̄ += Δᵀ·A_{l−1} (fanOut × fanIn), b̄ += column sums of Δ.
                cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(fanOut), Int32(fanIn), Int32(b), 1,
                            delta, Int32(fanOut), previous, Int32(fanIn), 1, g + weights, Int32(fanIn))
                for row in 0..<b {
                    for i in 0..<fanOut { g[biases + i] += delta[row * fanOut + i] }
                }
                // Δ_{l−1} = Δ·W (B × fanIn), times σ′ of the layer below.
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(b), Int32(fanIn), Int32(fanOut), 1,
                            delta, Int32(fanOut), w + weights, Int32(fanIn), 0, upstream, Int32(fanIn))
                if l > 0 {
                    let offset = activationOffsets[l - 1] * b
                    for k in 0..<(b * fanIn) { upstream[k] *= activationDerivative(z[offset + k], a[offset + k]) }
                }
                swap(&delta, &upstream)
            }
            for k in 0..<(b * n) { stateCotangent[k] += delta[k] * inputDerivative(y[k]) }
        }
    }

    /// Runs the layers over B copies into `cache` (``pullbackCacheCount(copies:)`` doubles): Z and
    /// A (layer l's block of B × width_l starting at activationOffsets[l]·B), then the mapped input.
    private func batchForwardPass(
        copies b: Int, _ y: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>, into cache: UnsafeMutablePointer<Double>
    ) {
        let count = activationCount * b, n = dimension
        let z = cache, a = z + count, input = a + count
        for k in 0..<(b * n) { input[k] = mapInput(y[k]) }
        let w = p.baseAddress!
        for l in 0..<layerCount {
            let fanIn = layerSizes[l], fanOut = layerSizes[l + 1]
            let weights = weightOffsets[l], biases = weights + fanOut * fanIn
            let offset = activationOffsets[l] * b
            let previous = l == 0 ? input : a + activationOffsets[l - 1] * b
            for row in 0..<b {
                for i in 0..<fanOut { z[offset + row * fanOut + i] = w[biases + i] }
            }
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(b), Int32(fanOut), Int32(fanIn), 1,
                        previous, Int32(fanIn), w + weights, Int32(fanIn), 1, z + offset, Int32(fanOut))
            if l < layerCount - 1 || finalActivation {
                activate(z + offset, into: a + offset, count: b * fanOut)
            } else {
                (a + offset).update(from: z + offset, count: b * fanOut)
            }
        }
    }
}
