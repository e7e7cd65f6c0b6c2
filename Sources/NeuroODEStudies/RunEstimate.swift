import NeuroODE

/// The ``MemoryEstimate`` terms of the gradient tasks and training problems, from their size
/// options alone (README "Resource limits"). Each is an upper estimate of the dominant
/// allocations, not an accounting of every byte.
public enum RunEstimate {
    /// How many state vectors the most storing of `kinds` keeps over `steps` steps: every step
    /// for BPTT and the partial adjoint, about 2√steps with checkpoints, a few (times the
    /// threads' copies) for the forward-only methods.
    public static func storedStates(_ kinds: [GradientMethodKind], steps: Double) -> Double {
        let threads = Double(Parallelism.defaultThreadCount)
        return kinds.map { kind -> Double in
            switch kind {
            case .bptt, .adjointPartial: steps + 2
            case .bpttCheckpointed: 2 * steps.squareRoot() + 2
            default: 8 * threads  // forward-only methods and the full adjoint
            }
        }.max() ?? 1
    }

    /// A Morris–Lecar network of `neurons` over a batch of `batch` trials for `steps` leapfrog
    /// steps: its weights and the states the methods keep.
    public static func network(
        _ estimate: inout MemoryEstimate, neurons: Int, batch: Int, steps: Double, kinds: [GradientMethodKind],
        batchOption: String = "--batch"
    ) {
        let n = Double(neurons), b = Double(batch), steps = steps.isFinite ? max(0, steps) : 0
        estimate.add("the network's weights and their gradients and moments", option: "--neurons", value: neurons, doubles: 16 * n * n + 200 * n)
        let states = storedStates(kinds, steps: steps) * 2 * n * b
        estimate.add("the stored network states", option: n > b ? "--neurons" : batchOption, value: n > b ? neurons : batch, doubles: states)
    }

    /// The spiral's MLP (about 5H weights, with gradients, moments and ES copies) and its windows.
    public static func spiral(_ estimate: inout MemoryEstimate, hidden: Int, windows: Int, windowLength: Int) {
        estimate.add("the MLP's weights and their copies", option: "--hidden", value: hidden, doubles: 64 * (5 * Double(hidden) + 2))
        estimate.add("the windows' stored solver stages", option: "--windows", value: windows,
                     doubles: 2000 * Double(windows) * Double(windowLength))
    }

    /// One neuron (two states) over `horizon` in steps of `stepSize`.
    public static func turnOff(
        _ estimate: inout MemoryEstimate, horizon: Double, stepSize: Double, kinds: [GradientMethodKind], option: String = "--horizon"
    ) {
        let steps = horizon.isFinite && stepSize > 0 ? horizon / stepSize : 0
        estimate.add("the stored states over the horizon", option: option, value: horizon, doubles: 3 * storedStates(kinds, steps: steps))
    }

    /// ES's per-sample losses and ranks.
    public static func samples(_ estimate: inout MemoryEstimate, _ samples: Int?) {
        guard let samples else { return }
        estimate.add("the ES samples' bookkeeping", option: "--samples", value: samples, doubles: 16 * Double(samples))
    }

    /// The training log (one record of about 40 numbers and text per iteration, in memory, in
    /// checkpoints and in curves.csv) for each of `runs` runs.
    public static func log(_ estimate: inout MemoryEstimate, iterations: Int?, runs: Int = 1) {
        guard let iterations else { return }
        estimate.add("the training log", option: "--iterations", value: iterations, doubles: 40 * Double(iterations) * Double(max(1, runs)))
    }
}
