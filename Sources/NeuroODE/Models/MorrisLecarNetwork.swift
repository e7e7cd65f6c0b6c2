import CKernels
import CSundials
import Dispatch
import Foundation

/// A recurrent network of N Morris–Lecar neurons simulated for B independent trials at once
/// (SCIENCE.md "Networks", "Evidence integration").
///
/// Neuron i in trial b obeys the Morris–Lecar equations (``MorrisLecar``) with the current
///
///     I_ib = I_bias + gain·(bias_i + (W_in u_b(t))_i + (W_rec T(V_·b))_i)
///
/// where T is the synaptic output (``SynapticOutput``) and u the input (``InputSignal``). With
/// the defaults this is the SCIENCE.md's I = 39.9 + 36.75·(0.1 + W_in u + W_rec T).
///
/// **State layout** `[V | w]`, each block `N × B` row-major (neuron-major, trials contiguous), so
/// that the recurrent input of all trials is one matrix–matrix product (N×N)·(N×B) per evaluation
/// (OpenBLAS `dgemm`). The input term is one (N×M)·(M×B) product, or, for token inputs
/// (``TokenInputSignal``) with K ≤ B tokens, the much smaller (N×M)·(M×K) product gathered per
/// trial. No scratch memory is needed: the products are staged in the output buffers.
///
/// **Parameters** (flat, named), in this order: `W_in[i,j]` (N×M, row-major), `W_rec[i,j]` (N×N,
/// row-major), `bias[i]` (one per neuron, default 0.1), `gain`, `I_bias`. The neuron constants
/// (C, gL, …, φ) come from a ``MorrisLecar/Preset`` and are fixed: the network is trained through
/// its weights.
///
/// **Recurrent term in time.** The continuous right-hand side (for dopri5 / CVODE) uses T(V(t)).
/// The leapfrog evaluates the membrane coefficients with the voltages V_n of the step's start, so
/// the step n → n+1 uses T(V_n): exactly the SCIENCE.md's T_prev.
///
/// **Defaults.** Preset `.snic` and synapse ``SynapticOutput/authorsNetwork`` (V_T = −3, K_p = 8):
/// the operating current 39.9 + 36.75·(…) was tuned in the authors' network code together with
/// that synapse and that preset; the paper's V_T = 10, K_p = 3 stays available through `synapse:`.
/// SCIENCE.md's case B ("explosive spikes") uses ``MorrisLecar/Preset/snicExplosive``, which still fires
/// at these currents; the single-neuron `explosive` (Hopf-based) preset is silent there.
///
/// **Parallelism.** Trials are independent: ``splitBatch(into:)`` cuts the batch into networks
/// over disjoint trial ranges and ``simulate(initialState:parameters:timeSpan:stepSize:scheme:precision:threads:)``
/// runs them concurrently, one leapfrog with its own buffers per part. OpenBLAS is kept
/// single-threaded so it does not compete with that.
public struct MorrisLecarNetwork: ConductanceBasedSystem {
    /// N.
    public let neurons: Int
    /// M, the input dimension.
    public let inputs: Int
    /// B, the number of trials this network simulates.
    public let batchSize: Int
    /// The first trial of `input` simulated here (non-zero for the parts made by ``splitBatch(into:)``).
    public let firstTrial: Int
    /// The Morris–Lecar parameter set shared by every neuron.
    public let neuronPreset: MorrisLecar.Preset
    /// C, gL, gCa, gK, VL, VCa, VK, V1, V2, V3, V4, φ (``MorrisLecar/parameterNames-swift.type.property`` without I).
    public let neuronConstants: [Double]
    /// The output function T(V) through which neurons feed back via W_rec.
    public let synapse: SynapticOutput
    /// The input of the whole batch; this network reads trials `firstTrial ..< firstTrial + batchSize`.
    public let input: any InputSignal
    public let defaultParameters: [Double]
    public let defaultInitialState: [Double]
    public let parameterNames: [String]
    /// The input for this network's trials, cached once in the form evaluations read fastest.
    let inputTable: NetworkInputTable

    /// SCIENCE.md's initial gate value w0 (the snic resting gate).
    public static let restingGate = 0.014173

    /// A network with the given weights.
    ///
    /// - Parameters:
    ///   - neurons: N, the number of neurons (at least 1).
    ///   - input: the time-dependent input u(t) of every trial; its trial count is the batch size B.
    ///   - inputWeights: W_in, N × M row-major (M = `input.channels`).
    ///   - recurrentWeights: W_rec, N × N row-major.
    ///   - bias: one per neuron; nil gives 0.1 for every neuron (SCIENCE.md).
    ///   - gain: the factor (µA/cm²) on W_in u + W_rec T + bias in the injected current.
    ///   - biasCurrent: the constant part of the injected current (µA/cm²), I_bias.
    ///   - preset: the Morris–Lecar parameter set of every neuron.
    ///   - synapse: the output function T(V) that neurons feed back through W_rec.
    ///   - initialState: `[V | w]`; nil gives V = −20 mV (SCIENCE.md's mean) and w = 0.014173 everywhere.
    public init(
        neurons: Int, input: some InputSignal, inputWeights: [Double], recurrentWeights: [Double],
        bias: [Double]? = nil, gain: Double = 36.75, biasCurrent: Double = 39.9,
        preset: MorrisLecar.Preset = .snic, synapse: SynapticOutput = .authorsNetwork,
        initialState: [Double]? = nil
    ) throws(ODEError) {
        guard neurons > 0 else { throw .dimensionMismatch(what: "network neuron count", expected: 1, actual: neurons) }
        let m = input.channels, b = input.batchSize
        guard b > 0 else { throw .dimensionMismatch(what: "input batch size", expected: 1, actual: b) }
        guard inputWeights.count == neurons * m else {
            throw .dimensionMismatch(what: "W_in (\(neurons) × \(m))", expected: neurons * m, actual: inputWeights.count)
        }
        guard recurrentWeights.count == neurons * neurons else {
            throw .dimensionMismatch(what: "W_rec (\(neurons) × \(neurons))", expected: neurons * neurons, actual: recurrentWeights.count)
        }
        let bias = bias ?? [Double](repeating: 0.1, count: neurons)
        guard bias.count == neurons else { throw .dimensionMismatch(what: "bias", expected: neurons, actual: bias.count) }
        let constants = Array(MorrisLecar(preset: preset).defaultParameters.prefix(12))
        let state = initialState
            ?? [Double](repeating: -20, count: neurons * b) + [Double](repeating: Self.restingGate, count: neurons * b)
        guard state.count == 2 * neurons * b else {
            throw .dimensionMismatch(what: "initial state of ml-network", expected: 2 * neurons * b, actual: state.count)
        }
        let table = NetworkInputTable(input)
        if let (index, value) = table.firstNonFiniteValue {
            throw .invalidParameter(name: "input value #\(index)", value: value, reason: "inputs must be finite")
        }
        Parallelism.useSingleThreadedBLAS()
        self.init(
            neurons: neurons, inputs: m, batchSize: b, firstTrial: 0, preset: preset, constants: constants,
            synapse: synapse, input: input, inputTable: table,
            parameters: inputWeights + recurrentWeights + bias + [gain, biasCurrent], initialState: state,
            names: Self.makeParameterNames(neurons: neurons, inputs: m))
    }

    private init(
        neurons: Int, inputs: Int, batchSize: Int, firstTrial: Int, preset: MorrisLecar.Preset, constants: [Double],
        synapse: SynapticOutput, input: any InputSignal, inputTable: NetworkInputTable, parameters: [Double],
        initialState: [Double], names: [String]
    ) {
        self.neurons = neurons
        self.inputs = inputs
        self.batchSize = batchSize
        self.firstTrial = firstTrial
        self.neuronPreset = preset
        self.neuronConstants = constants
        self.synapse = synapse
        self.input = input
        self.inputTable = inputTable
        self.defaultParameters = parameters
        self.defaultInitialState = initialState
        self.parameterNames = names
    }

    /// One uncoupled neuron with the given constants (C, gL, …, φ), no input and one trial, whose
    /// parameters are [W_rec, bias, gain, I_bias]: the single Morris–Lecar neuron as a network, so
    /// that it shares the network's kernels.
    static func singleNeuron(preset: MorrisLecar.Preset, constants: [Double]) throws(ODEError) -> MorrisLecarNetwork {
        let input = try ConstantInput(values: [], batchSize: 1)
        return MorrisLecarNetwork(
            neurons: 1, inputs: 0, batchSize: 1, firstTrial: 0, preset: preset, constants: constants, synapse: .authorsNetwork,
            input: input, inputTable: NetworkInputTable(input), parameters: [0, 0, 0, 0], initialState: [-20, restingGate],
            names: makeParameterNames(neurons: 1, inputs: 0))
    }

    /// SCIENCE.md's initialisation for the evidence task: W_in ~ U(0.1 ± 1/√N); W_rec ~ U(0.001 ± 1/√N)
    /// with 20 % of its entries (chosen at random, rounded to the nearest count) set to 0.001;
    /// V0 ~ −20 + N(0, 5²) and w0 = 0.014173 for every neuron and trial.
    ///
    /// Each quantity draws from its own stream of `seed` (0: W_in, 1: W_rec, 2: the initial state),
    /// so changing the batch size does not change the weights.
    public static func seeded(
        neurons: Int, input: some InputSignal, seed: UInt64,
        gain: Double = 36.75, biasCurrent: Double = 39.9,
        preset: MorrisLecar.Preset = .snic, synapse: SynapticOutput = .authorsNetwork
    ) throws(ODEError) -> MorrisLecarNetwork {
        guard neurons > 0 else { throw .dimensionMismatch(what: "network neuron count", expected: 1, actual: neurons) }
        let halfWidth = 1 / Double(neurons).squareRoot()
        var inputStream = SeededGenerator(seed: seed, stream: 0)
        let wIn = (0..<(neurons * input.channels)).map { _ in
            inputStream.nextUniform(in: (0.1 - halfWidth)..<(0.1 + halfWidth))
        }
        var recurrentStream = SeededGenerator(seed: seed, stream: 1)
        var wRec = (0..<(neurons * neurons)).map { _ in
            recurrentStream.nextUniform(in: (0.001 - halfWidth)..<(0.001 + halfWidth))
        }
        // A partial Fisher–Yates shuffle picks the entries reset to 0.001 without repetition.
        var indices = Array(wRec.indices)
        let resetCount = Int((0.2 * Double(wRec.count)).rounded())
        for k in 0..<resetCount {
            let j = k + Int(recurrentStream.next(upperBound: UInt64(indices.count - k)))
            indices.swapAt(k, j)
            wRec[indices[k]] = 0.001
        }
        var stateStream = SeededGenerator(seed: seed, stream: 2)
        let count = neurons * input.batchSize
        let v0 = (0..<count).map { _ in stateStream.nextGaussian(mean: -20, standardDeviation: 5) }
        return try MorrisLecarNetwork(
            neurons: neurons, input: input, inputWeights: wIn, recurrentWeights: wRec, gain: gain,
            biasCurrent: biasCurrent, preset: preset, synapse: synapse,
            initialState: v0 + [Double](repeating: restingGate, count: count))
    }

    private static func makeParameterNames(neurons n: Int, inputs m: Int) -> [String] {
        var names: [String] = []
        names.reserveCapacity(n * m + n * n + n + 2)
        for i in 0..<n { for j in 0..<m { names.append("W_in[\(i),\(j)]") } }
        for i in 0..<n { for j in 0..<n { names.append("W_rec[\(i),\(j)]") } }
        for i in 0..<n { names.append("bias[\(i)]") }
        names += ["gain", "I_bias"]
        return names
    }

    // MARK: Layout

    /// Offsets of the parameter blocks.
    var recurrentWeightsOffset: Int { neurons * inputs }
    var biasOffset: Int { neurons * (inputs + neurons) }
    var gainIndex: Int { biasOffset + neurons }
    var biasCurrentIndex: Int { gainIndex + 1 }

    /// N·B, the number of compartments.
    var compartments: Int { neurons * batchSize }

    public var name: String { "ml-network" }
    public var dimension: Int { 2 * compartments }
    public var voltageCount: Int { compartments }
    /// As for ``MorrisLecar``: w is a probability, and ±200 mV lies far outside the reversal potentials.
    public var plausibleVoltageRange: ClosedRange<Double>? { -200...200 }
    public var plausibleGateRange: ClosedRange<Double>? { 0...1 }
    public var voltageIndices: [Int] { Array(0..<compartments) }
    public var stateNames: [String] {
        (0..<compartments).map { "V[\($0 / batchSize),\($0 % batchSize)]" }
            + (0..<compartments).map { "w[\($0 / batchSize),\($0 % batchSize)]" }
    }

    public func validate(parameters: [Double]) throws(ODEError) {
        try MorrisLecar.validateNeuronParameters(neuronConstants, offset: 0)
    }

    // MARK: Synaptic input

    /// Writes gain·(W_rec·T + W_in·u(t)) for every compartment into `current`, with T (N × B)
    /// already in `scratch`, which is then free and serves the token path as N × K workspace.
    ///
    /// W_rec·T is one `dgemm`. For token inputs (K ≤ B tokens) the input term is
    /// gain·W_in·vocabularyᵀ (N × K, one small `dgemm`) gathered by each trial's token; otherwise
    /// a second `dgemm` with the cached M × B segment matrix.
    @inline(__always)
    func writeNetworkInput(
        at t: Double, scratch: UnsafeMutablePointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into current: UnsafeMutablePointer<Double>
    ) {
        let n = Int32(neurons), b = Int32(batchSize), m = Int32(inputs), base = p.baseAddress!
        let gain = p[gainIndex]
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, b, n, gain,
                    base + recurrentWeightsOffset, n, scratch, b, 0, current, b)
        guard inputs > 0 else { return }
        let segment = input.segmentIndex(at: t)
        switch inputTable {
        case let .dense(table):
            table.withUnsafeBufferPointer { table in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, b, m, gain,
                            base, m, table.baseAddress! + segment * inputs * batchSize, b, 1, current, b)
            }
        case let .tokens(vocabulary, size, tokens):
            vocabulary.withUnsafeBufferPointer { vocabulary in
                cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, Int32(size), m, gain,
                            base, m, vocabulary.baseAddress!, m, 0, scratch, Int32(size))
            }
            tokens.withUnsafeBufferPointer { tokens in
                let row = tokens.baseAddress! + segment * batchSize
                for i in 0..<neurons {
                    let projected = scratch + i * size, out = current + i * batchSize
                    for trial in 0..<batchSize { out[trial] += projected[Int(row[trial])] }
                }
            }
        }
    }

    /// The current's constant part per neuron, I_bias + gain·bias_i, added after the products.
    @inline(__always)
    func constantCurrent(_ i: Int, _ p: UnsafeBufferPointer<Double>) -> Double {
        p[biasCurrentIndex] + p[gainIndex] * p[biasOffset + i]
    }

    /// Calls `body` with every neuron's constantCurrent(i) + gL·VL, the per-neuron term of the
    /// drive the kernels add, in temporary memory (the stack where the size allows).
    @inline(__always)
    func withNeuronConstantCurrents<R>(
        _ p: UnsafeBufferPointer<Double>, leakDrive: Double, _ body: (UnsafePointer<Double>) -> R
    ) -> R {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: neurons) { constant in
            for i in 0..<neurons { constant[i] = constantCurrent(i, p) + leakDrive }
            return body(constant.baseAddress!)
        }
    }

    // MARK: Right-hand side

    public func evaluateRightHandSide(
        at t: Double, state y: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        into dydt: UnsafeMutableBufferPointer<Double>
    ) {
        let nb = compartments, batch = batchSize
        let v = y.baseAddress!, w = v + nb
        let dv = dydt.baseAddress!, dw = dv + nb
        // T(V) goes into the gate half of the output, the synaptic current into the voltage half;
        // both are then overwritten in place by the derivatives.
        synapse.writeValues(v, count: nb, into: dw)
        writeNetworkInput(at: t, scratch: dw, parameters: p, into: dv)
        var k = NetworkKinetics(neuronConstants).kernelConstants
        withNeuronConstantCurrents(p, leakDrive: k.leakDrive) { constant in
            nk_ml_right_hand_side_f64(v, w, dv, dw, neurons, batch, constant, &k)
        }
    }

    // MARK: Conductance-based structure (leapfrog)

    public func capacitance(parameters p: UnsafeBufferPointer<Double>) -> Double { neuronConstants[0] }

    public func evaluateGateKinetics(
        at t: Double, voltages: UnsafeBufferPointer<Double>, parameters p: UnsafeBufferPointer<Double>,
        steadyState: UnsafeMutableBufferPointer<Double>, timeConstant: UnsafeMutableBufferPointer<Double>
    ) {
        var k = NetworkKinetics(neuronConstants).kernelConstants
        nk_ml_gate_kinetics_f64(voltages.baseAddress!, steadyState.baseAddress!, timeConstant.baseAddress!, compartments, &k)
    }

    public func evaluateMembraneCoefficients(
        at t: Double, voltages: UnsafeBufferPointer<Double>, gates: UnsafeBufferPointer<Double>,
        parameters p: UnsafeBufferPointer<Double>,
        conductance: UnsafeMutableBufferPointer<Double>, drive: UnsafeMutableBufferPointer<Double>
    ) {
        let nb = compartments, batch = batchSize
        let v = voltages.baseAddress!, w = gates.baseAddress!
        let g = conductance.baseAddress!, e = drive.baseAddress!
        // T(V_n) is staged in the conductance buffer, the synaptic current in the drive buffer.
        synapse.writeValues(v, count: nb, into: g)
        writeNetworkInput(at: t, scratch: g, parameters: p, into: e)
        var k = NetworkKinetics(neuronConstants).kernelConstants
        withNeuronConstantCurrents(p, leakDrive: k.leakDrive) { constant in
            nk_ml_membrane_f64(v, w, g, e, neurons, batch, constant, &k)
        }
    }
}

// MARK: - Batch splitting and parallel simulation

extension MorrisLecarNetwork {
    /// The most parts the batch can be cut into: one trial each, except for token inputs, whose
    /// parts must keep at least as many trials as there are tokens (the input term is formed in
    /// N × K scratch inside the N × B buffers). Every part then evaluates the input the same way,
    /// which keeps results bit-identical whatever the split.
    public var maximumParts: Int {
        if case let .tokens(_, size, _) = inputTable { return Swift.max(1, batchSize / size) }
        return batchSize
    }

    /// The trial ranges of `parts` near-equal pieces of the batch (sizes differ by at most one).
    public func batchRanges(parts: Int) throws(ODEError) -> [Range<Int>] {
        guard parts >= 1, parts <= maximumParts else {
            throw .dimensionMismatch(what: "number of batch parts (1 ... \(maximumParts))", expected: maximumParts, actual: parts)
        }
        return (0..<parts).map { k in (k * batchSize / parts)..<((k + 1) * batchSize / parts) }
    }

    /// Networks over disjoint trial ranges that together simulate exactly this one: trial b of
    /// a part is trial `range.lowerBound + b` here. Parts share weights, constants and input.
    public func splitBatch(into parts: Int) throws(ODEError) -> [MorrisLecarNetwork] {
        try batchRanges(parts: parts).map { range in
            MorrisLecarNetwork(
                neurons: neurons, inputs: inputs, batchSize: range.count, firstTrial: firstTrial + range.lowerBound,
                preset: neuronPreset, constants: neuronConstants, synapse: synapse, input: input,
                inputTable: inputTable.restricted(to: range, batchSize: batchSize),
                parameters: defaultParameters, initialState: Self.columns(defaultInitialState, 2 * neurons, batchSize, range),
                names: parameterNames)
        }
    }

    /// Cuts a state of this network into the states of ``splitBatch(into:)``'s parts.
    public func splitState(_ state: [Double], into parts: Int) throws(ODEError) -> [[Double]] {
        guard state.count == dimension else {
            throw .dimensionMismatch(what: "state of ml-network", expected: dimension, actual: state.count)
        }
        return try batchRanges(parts: parts).map { Self.columns(state, 2 * neurons, batchSize, $0) }
    }

    /// Joins the parts' states (in order) back into a state of this network.
    public func mergeStates(_ states: [[Double]]) throws(ODEError) -> [Double] {
        let ranges = try batchRanges(parts: states.count)
        var merged = [Double](repeating: 0, count: dimension)
        for (range, part) in zip(ranges, states) {
            guard part.count == 2 * neurons * range.count else {
                throw .dimensionMismatch(what: "state of a batch part", expected: 2 * neurons * range.count, actual: part.count)
            }
            for row in 0..<(2 * neurons) {
                for b in range { merged[row * batchSize + b] = part[row * range.count + b - range.lowerBound] }
            }
        }
        return merged
    }

    /// Runs the leapfrog over `timeSpan` with the batch split across `threads` workers and returns
    /// the final state. Each part is an independent solve with its own buffers, so the result is
    /// bit-identical for every thread count.
    public func simulate(
        initialState: [Double]? = nil, parameters: [Double]? = nil, timeSpan: (start: Double, end: Double),
        stepSize: Double = 0.1, scheme: Leapfrog.InstantaneousVoltage = .extrapolatedMidpoint,
        precision: Precision = .f64, threads: Int
    ) throws(ODEError) -> [Double] {
        let whole = try ODEProblem(system: self, initialState: initialState, parameters: parameters, timeSpan: timeSpan)
        let parts = Swift.max(1, Swift.min(threads, maximumParts))
        let networks = try splitBatch(into: parts)
        let states = try splitState(whole.initialState, into: parts)
        let problems = try (0..<parts).map { (k) throws(ODEError) in
            try ODEProblem(system: networks[k], initialState: states[k], parameters: whole.parameters, timeSpan: timeSpan)
        }
        let integrator = Leapfrog(stepSize: stepSize, instantaneousVoltage: scheme, precision: precision)
        var results = [Result<[Double], ODEError>](repeating: .success([]), count: parts)
        results.withUnsafeMutableBufferPointer { slots in
            let slots = SendableSlots(slots)
            DispatchQueue.concurrentPerform(iterations: parts) { k in
                slots.store(Result { () throws(ODEError) in
                    try integrator.solve(problems[k], output: .finalState).finalState
                }, at: k)
            }
        }
        return try mergeStates(results.map { (result) throws(ODEError) in try result.get() })
    }

    /// Rows × width block of columns `range` from a rows × `batch` row-major matrix.
    static func columns<Element>(_ matrix: [Element], _ rows: Int, _ batch: Int, _ range: Range<Int>) -> [Element] {
        var out = [Element]()
        out.reserveCapacity(rows * range.count)
        for r in 0..<rows { out += matrix[(r * batch + range.lowerBound)..<(r * batch + range.upperBound)] }
        return out
    }
}

/// A network's input in the form its evaluations read.
enum NetworkInputTable: Sendable {
    /// Every segment's M × B matrix, one after another.
    case dense([Double])
    /// K × M token vectors and, per segment, each trial's token (segments × B).
    case tokens(vocabulary: [Double], size: Int, tokens: [Int32])

    /// The table of `input`: tokens when the input has at most as many tokens as trials (then
    /// W_in·vocabularyᵀ is the cheaper product, and fits the N × B scratch), dense otherwise.
    init(_ input: any InputSignal) {
        if input.channels == 0 {
            self = .dense([])
        } else if let tokenInput = input as? any TokenInputSignal, tokenInput.vocabularySize <= input.batchSize {
            var tokens = [Int32]()
            tokens.reserveCapacity(input.segmentCount * input.batchSize)
            for s in 0..<input.segmentCount {
                for b in 0..<input.batchSize { tokens.append(Int32(tokenInput.token(segment: s, trial: b))) }
            }
            self = .tokens(vocabulary: tokenInput.vocabulary, size: tokenInput.vocabularySize, tokens: tokens)
        } else {
            self = .dense(input.segmentTable())
        }
    }

    /// The index (in the vocabulary or the dense table) and value of the first NaN or infinity.
    var firstNonFiniteValue: (Int, Double)? {
        switch self {
        case let .dense(values), let .tokens(values, _, _):
            return values.enumerated().first { !$0.element.isFinite }.map { ($0.offset, $0.element) }
        }
    }

    /// The table of trials `range` (of `batchSize`), in the same form.
    func restricted(to range: Range<Int>, batchSize: Int) -> NetworkInputTable {
        switch self {
        case let .dense(table):
            return .dense(MorrisLecarNetwork.columns(table, table.count / batchSize, batchSize, range))
        case let .tokens(vocabulary, size, tokens):
            return .tokens(
                vocabulary: vocabulary, size: size,
                tokens: MorrisLecarNetwork.columns(tokens, tokens.count / batchSize, batchSize, range))
        }
    }
}

/// Result slots written by concurrent workers, each worker to its own index.
struct SendableSlots<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
    func store(_ value: Element, at index: Int) { buffer[index] = value }
}

// MARK: - Kinetics constants

/// The Morris–Lecar constants the network's kernels read (NeuroODEKernels.h, which holds the rate
/// functions themselves: one exponential per function instead of tanh and cosh, each kept as a
/// fraction e^x = N/D whose division merges with the function's own).
///
/// With u = e^z = N/D, z = (V − V3)/(2V4): w∞ = ½(1 + tanh 2z) = u⁴/(1 + u⁴) = N⁴/(D⁴ + N⁴) and
/// τ = 1/(φ cosh z) = 2u/(φ(1 + u²)) = 2ND/(φ(D² + N²)); m∞ = ½(1 + tanh x) = 1/(1 + e^{−2x}),
/// x = (V − V1)/V2, and T likewise are logistic functions D/(D + N). z is clamped to ±50
/// (|V − V3| > 1700 mV), where tanh 2z is ±1 to double precision, so that N⁶ cannot overflow;
/// a NaN voltage stays NaN. The exponential is a Cody–Waite reduction with the [6/6] Padé
/// approximant (relative error below 3e−16, Validation/vector_exp_fit.py), without FMA, so results
/// are the same on every x86-64 and ARM build and for every SIMD width.
struct NetworkKinetics {
    let inverseCapacitance, gL, gCa, gK, vCa, vK, leakDrive: Double
    let v1, minusTwoOverV2, v3, halfOverV4, phi, inversePhi: Double

    /// The same constants in the C kernels' layout (NeuroODEKernels.h).
    var kernelConstants: nk_ml_constants {
        nk_ml_constants(
            inverseCapacitance: inverseCapacitance, gL: gL, gCa: gCa, gK: gK, vCa: vCa, vK: vK, leakDrive: leakDrive,
            v1: v1, minusTwoOverV2: minusTwoOverV2, v3: v3, halfOverV4: halfOverV4, phi: phi, inversePhi: inversePhi)
    }

    @inline(__always)
    init(_ c: [Double]) {
        inverseCapacitance = 1 / c[0]
        gL = c[1]; gCa = c[2]; gK = c[3]
        leakDrive = c[1] * c[4]
        vCa = c[5]; vK = c[6]
        v1 = c[7]; minusTwoOverV2 = -2 / c[8]
        v3 = c[9]; halfOverV4 = 0.5 / c[10]
        phi = c[11]; inversePhi = 1 / c[11]
    }
}

extension SynapticOutput {
    /// T(V) for `count` voltages, with the branch-free exponential so the loop vectorises.
    @inline(__always)
    func writeValues(_ v: UnsafePointer<Double>, count: Int, into out: UnsafeMutablePointer<Double>) {
        nk_logistic_f64(v, out, count, threshold, -1 / slope)
    }
}
