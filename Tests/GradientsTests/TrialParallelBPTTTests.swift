import Foundation
import Testing
@testable import Gradients
@testable import NeuroODE

/// A token input stripped of its token structure, which sends a network down the dense input path
/// (and lets its batch be cut into single trials).
private struct DenseInput: InputSignal {
    let base: TokenSequenceInput
    var channels: Int { base.channels }
    var batchSize: Int { base.batchSize }
    var segmentCount: Int { base.segmentCount }
    func segmentIndex(at t: Double) -> Int { base.segmentIndex(at: t) }
    func writeSegment(_ index: Int, into values: UnsafeMutableBufferPointer<Double>) { base.writeSegment(index, into: values) }
}

/// N = 6 neurons, M = 4 inputs, B = 8 trials of three-token sequences (5 ms per token), with
/// random weights strong enough that recurrent and input terms both shape the trajectory. With
/// token input the batch splits into at most 8 / 3 = 2 parts, with dense input into 8.
private func batchNetwork(dense: Bool) throws -> MorrisLecarNetwork {
    let n = 6, m = 4, b = 8
    var g = SeededGenerator(seed: 7, stream: 9)
    let input = try TokenSequenceInput.random(
        channels: m, vocabularySize: 3, length: 8, batchSize: b, tokenDuration: 5, amplitude: 0.5, seed: 7)
    let wIn = (0..<(n * m)).map { _ in g.nextUniform(in: -0.4..<0.6) }
    let wRec = (0..<(n * n)).map { _ in g.nextUniform(in: -0.5..<0.5) }
    let bias = (0..<n).map { _ in g.nextUniform(in: 0..<0.2) }
    let state = (0..<(n * b)).map { _ in g.nextUniform(in: -60..<20) } + (0..<(n * b)).map { _ in g.nextUniform(in: 0..<0.3) }
    if dense {
        return try MorrisLecarNetwork(
            neurons: n, input: DenseInput(base: input), inputWeights: wIn, recurrentWeights: wRec, bias: bias, initialState: state)
    }
    return try MorrisLecarNetwork(neurons: n, input: input, inputWeights: wIn, recurrentWeights: wRec, bias: bias, initialState: state)
}

private let trainedNames = ["W_in[0,0]", "W_in[2,3]", "W_in[5,1]", "W_rec[0,1]", "W_rec[3,3]", "W_rec[4,2]",
                            "W_rec[5,0]", "bias[1]", "bias[4]", "gain", "I_bias"]

/// The readout task over 30 ms (window 10 ms) with every kind of network weight and the readout trained.
private func readoutTask(_ network: MorrisLecarNetwork) throws
    -> (task: TrainingTask<MorrisLecarNetwork, Leapfrog, EvidenceReadoutLoss>, theta: [Double])
{
    let loss = try EvidenceReadoutLoss(
        neurons: network.neurons, labels: (0..<network.batchSize).map { $0 % 3 }, endTime: 30, synapse: network.synapse)
    let task = try TrainingTask(
        name: "network-readout", system: network, timeSpan: (0, 30), integrator: Leapfrog(stepSize: 0.1),
        loss: loss, training: trainedNames)
    var readout = loss.seededParameters(seed: 4)
    readout[readout.count - 2] = 0.3
    let theta = try trainedNames.map { network.defaultParameters[try network.parameterIndex(named: $0)] } + readout
    return (task, theta)
}

/// The whole batch swept as one map, without parts: the reference the parts agree with to rounding.
private func wholeBatchSweep(
    _ network: MorrisLecarNetwork, _ task: TrainingTask<MorrisLecarNetwork, Leapfrog, EvidenceReadoutLoss>, _ theta: [Double]
) throws -> (loss: Double, gradient: [Double]) {
    let parameters = try task.split(theta)
    let map = try LeapfrogMap(
        problem: ODEProblem(system: network, initialState: task.initialState, parameters: parameters.system, timeSpan: (0, 30)),
        integrator: Leapfrog(stepSize: 0.1))
    let outcome = try ReverseSweep(map: map, loss: task.loss, lossParameters: parameters.loss, checkpointInterval: 1).run()
    return (outcome.loss, task.trainedParameters.map { outcome.systemGradient[$0] } + outcome.lossGradient)
}

@Suite struct TrialParallelBPTTTests {
    @Test(arguments: [(false, 2), (true, 2), (true, 3), (true, 8)])
    func splitBatchEqualsWholeBatchToRounding(dense: Bool, threads: Int) throws {
        let network = try batchNetwork(dense: dense)
        let (task, theta) = try readoutTask(network)
        let whole = try wholeBatchSweep(network, task, theta)
        let split = try BackpropagationThroughTime(threads: threads).estimate(task, at: theta, iteration: 0)
        #expect(whole.gradient.map(abs).max()! > 1e-3, "the gradient is not trivial")
        #expect(abs(split.loss - whole.loss) <= 1e-14 * abs(whole.loss), "loss \(split.loss) vs \(whole.loss)")
        let scale = whole.gradient.map(abs).max()!
        for (k, (x, y)) in zip(split.gradient, whole.gradient).enumerated() {
            #expect(abs(x - y) <= 1e-13 * scale, "\(threads) threads: entry \(k): \(x) vs \(y)")
        }
        let again = try BackpropagationThroughTime(threads: threads).estimate(task, at: theta, iteration: 0)
        #expect(again.gradient == split.gradient && again.loss == split.loss, "deterministic")
        let one = try BackpropagationThroughTime(threads: 1).estimate(task, at: theta, iteration: 0)
        #expect(split.report.bytesStored == one.report.bytesStored, "the parts store the same trajectory for any thread count")
    }

    /// The partition is fixed (``BackpropagationThroughTime/batchParts``), so the gradient is
    /// bit-identical for every thread count, including more threads than parts.
    @Test(arguments: [false, true])
    func gradientIsBitIdenticalForAnyThreadCount(dense: Bool) throws {
        let network = try batchNetwork(dense: dense)
        let (task, theta) = try readoutTask(network)
        let one = try BackpropagationThroughTime(threads: 1).estimate(task, at: theta, iteration: 0)
        for threads in [2, 3, 5, 16] {
            let other = try BackpropagationThroughTime(threads: threads).estimate(task, at: theta, iteration: 0)
            #expect(other.loss == one.loss, "\(threads) threads")
            #expect(other.gradient == one.gradient, "\(threads) threads")
        }
    }

    /// The audit's case: the evidence task's BPTT gradient (and hence θ after training) is the
    /// same to the bit on 1, 2 and 3 threads.
    @Test func evidenceGradientIsBitIdenticalOnOneTwoAndThreeThreads() throws {
        var configuration = EvidenceTask.Configuration.small
        configuration.neurons = 4
        configuration.batchSize = 6
        configuration.tokenDuration = 0.5
        let problem = try EvidenceTask(configuration: configuration)
        let task = try problem.task(iteration: 0, seed: 2)
        let theta = try problem.initialParameters(seed: 2)
        let one = try BackpropagationThroughTime(threads: 1).estimate(task, at: theta, iteration: 0)
        #expect(one.gradient.contains { $0 != 0 })
        for threads in [2, 3] {
            let other = try BackpropagationThroughTime(threads: threads).estimate(task, at: theta, iteration: 0)
            #expect(other.loss.bitPattern == one.loss.bitPattern, "\(threads) threads")
            #expect(other.gradient.map(\.bitPattern) == one.gradient.map(\.bitPattern), "\(threads) threads")
        }
    }

    /// BPTT really runs the parts: its result is bit-identical to a sweep over the fixed
    /// partition built by hand, whatever the thread count of either (and differs from the
    /// whole-batch sweep only by rounding, above).
    @Test func bpttDispatchesToThePartSweep() throws {
        let network = try batchNetwork(dense: true)
        let (task, theta) = try readoutTask(network)
        let parts = min(BackpropagationThroughTime.batchParts, network.maximumParts)
        #expect(parts == 8)
        let split = try BackpropagationThroughTime(threads: 3).estimate(task, at: theta, iteration: 0)
        let parameters = try task.split(theta)
        let systems = try network.splitBatch(into: parts)
        let states = try network.splitState(task.initialState, into: parts)
        let maps = try (0..<parts).map { k in
            try LeapfrogMap(
                problem: ODEProblem(system: systems[k], initialState: states[k], parameters: parameters.system, timeSpan: (0, 30)),
                integrator: Leapfrog(stepSize: 0.1))
        }
        let losses = try network.batchRanges(parts: parts).map { try task.loss.restricted(toTrials: $0) }
        let outcome = try TrialParallelSweep(
            partCount: parts, map: { maps[$0] }, checkpointInterval: { _ in 1 }, losses: losses,
            lossParameters: parameters.loss, parameterCount: maps[0].parameterCount, threads: 2,
            communicator: SingleProcess()).run()
        #expect(outcome.loss == split.loss)
        #expect(task.trainedParameters.map { outcome.systemGradient[$0] } + outcome.lossGradient == split.gradient)
    }

    /// The 8 parts swept by R ranks (threads standing in for MPI processes, ``ThreadedRanks``) and
    /// added in part order give every rank one process's gradient, bit for bit.
    @Test func partsOverRanksEqualOneProcess() throws {
        let network = try batchNetwork(dense: true)
        let (task, theta) = try readoutTask(network)
        let one = try BackpropagationThroughTime(threads: 2, communicator: SingleProcess()).estimate(task, at: theta, iteration: 0)
        for ranks in [2, 3, 5, 8, 9] {
            let estimates = try ThreadedRanks.run(ranks: ranks) { world in
                try BackpropagationThroughTime(threads: 1, communicator: world).estimate(task, at: theta, iteration: 0)
            }
            for estimate in estimates {
                #expect(estimate.loss == one.loss, "R = \(ranks)")
                #expect(estimate.gradient == one.gradient, "R = \(ranks)")
                #expect(estimate.report.rightHandSideEvaluations == one.report.rightHandSideEvaluations)
                #expect(estimate.report.bytesStored == one.report.bytesStored)
            }
        }
    }

    @Test func checkpointedPartsEqualPlainParts() throws {
        let network = try batchNetwork(dense: false)
        let (task, theta) = try readoutTask(network)
        let plain = try BackpropagationThroughTime(threads: 2).estimate(task, at: theta, iteration: 0)
        for checkpointing in [BackpropagationThroughTime.Checkpointing.interval(13), .squareRoot] {
            let checkpointed = try BackpropagationThroughTime(checkpointing: checkpointing, threads: 2).estimate(task, at: theta, iteration: 0)
            #expect(checkpointed.loss == plain.loss)
            for (a, b) in zip(checkpointed.gradient, plain.gradient) {
                #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(checkpointing)")
            }
            #expect(checkpointed.report.bytesStored < plain.report.bytesStored / 5)
        }
    }

    @Test func splitBatchMatchesCentralDifferences() throws {
        let network = try batchNetwork(dense: false)
        let (task, theta) = try readoutTask(network)
        let split = try BackpropagationThroughTime(threads: 2).estimate(task, at: theta, iteration: 0)
        let reference = try FiniteDifferences(step: 1e-5).estimate(task, at: theta)
        #expect(abs(split.loss - reference.loss) <= 1e-14 * abs(reference.loss))
        let largest = reference.gradient.map(abs).max()!
        for (k, name) in task.parameterNames.enumerated() {
            let scale = max(abs(reference.gradient[k]), 1e-3 * largest)
            #expect(abs(split.gradient[k] - reference.gradient[k]) <= 1e-6 * scale,
                    "\(name): bptt \(split.gradient[k]) fd \(reference.gradient[k])")
        }
    }

    /// The restricted readout losses add up to the whole batch's: values and θ_L gradients to
    /// rounding, the integral cotangents exactly (each trial's are computed the same way).
    @Test func restrictedReadoutLossesSumToTheWhole() throws {
        let neurons = 4, labels = [0, 2, 1, 1, 0, 2, 2]
        let loss = try EvidenceReadoutLoss(neurons: neurons, labels: labels, endTime: 30)
        var g = SeededGenerator(seed: 31)
        let integrals = (0..<(neurons * labels.count)).map { _ in g.nextUniform(in: 0..<8) }
        let theta = (0..<(3 * (neurons + 1))).map { _ in g.nextUniform(in: -1..<1) }
        let whole = loss.valueAndGradient(integrals: integrals, observations: [], parameters: theta)
        var value = 0.0
        var parameterBar = [Double](repeating: 0, count: theta.count)
        for range in [0..<3, 3..<4, 4..<7] {
            let part = try loss.restricted(toTrials: range)
            #expect(part.averagedTrials == labels.count)
            let columns = MorrisLecarNetwork.columns(integrals, neurons, labels.count, range)
            let result = part.valueAndGradient(integrals: columns, observations: [], parameters: theta)
            value += result.value
            for i in parameterBar.indices { parameterBar[i] += result.parameters[i] }
            #expect(result.integrals == MorrisLecarNetwork.columns(whole.integrals, neurons, labels.count, range))
        }
        #expect(abs(value - whole.value) <= 1e-15 * abs(whole.value))
        for (a, b) in zip(parameterBar, whole.parameters) { #expect(abs(a - b) <= 1e-15 * max(1, abs(b))) }
        #expect(throws: ODEError.self) { try loss.restricted(toTrials: 5..<9) }
        #expect(throws: ODEError.self) { try loss.restricted(toTrials: 2..<2) }
    }

    /// A loss that is not separable over trials keeps the whole-batch sweep, bit for bit.
    @Test func nonSeparableLossRunsWhole() throws {
        let network = try batchNetwork(dense: true)
        let task = try TrainingTask(
            name: "network-activity", system: network, timeSpan: (0, 20), integrator: Leapfrog(stepSize: 0.1),
            loss: MeanActivityLoss(output: network.synapse, voltageIndices: network.voltageIndices, horizon: 20),
            training: trainedNames)
        let theta = try trainedNames.map { network.defaultParameters[try network.parameterIndex(named: $0)] }
        let one = try BackpropagationThroughTime(threads: 1).estimate(task, at: theta, iteration: 0)
        let two = try BackpropagationThroughTime(threads: 2).estimate(task, at: theta, iteration: 0)
        #expect(one.gradient == two.gradient && one.loss == two.loss)
    }
}

@Suite struct LeapfrogMapFinitenessTests {
    @Test func finitenessScanFlagsInfinitiesAndNaNsOnly() {
        let finite: [Double] = [0, -0.0, 1, -1e308, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                .leastNonzeroMagnitude, .leastNormalMagnitude, 3.5e-300]
        #expect(finite.withUnsafeBufferPointer { LeapfrogMap<MorrisLecarNetwork>.allFinite($0.baseAddress!, count: $0.count) })
        for bad in [Double.infinity, -.infinity, .nan, -.nan, .signalingNaN] {
            for position in [0, 4, finite.count] {
                var values = finite
                values.insert(bad, at: position)
                #expect(!values.withUnsafeBufferPointer { LeapfrogMap<MorrisLecarNetwork>.allFinite($0.baseAddress!, count: $0.count) },
                        "\(bad) at \(position)")
            }
        }
    }

    @Test func aNonFiniteStepIsATypedError() throws {
        let network = try batchNetwork(dense: false)
        let map = try LeapfrogMap(
            problem: ODEProblem(system: network, timeSpan: (0, 10)), integrator: Leapfrog(stepSize: 0.1))
        var z = [Double](repeating: 0, count: map.internalSize), next = z, y = [Double](repeating: 0, count: map.dimension)
        try z.withUnsafeMutableBufferPointer { try map.initialize(into: $0) }
        z[network.voltageCount + 5] = .infinity
        #expect(throws: ODEError.nonFiniteState(time: map.time(4), step: 4, model: network.name)) {
            try z.withUnsafeBufferPointer { z in
                try next.withUnsafeMutableBufferPointer { next in
                    try y.withUnsafeMutableBufferPointer { try map.step(3, from: z, to: next, reporting: $0) }
                }
            }
        }
    }
}
