"""NumPy baseline for the network forward: common.reference_simulate (the float64 reference every
peer is checked against) timed on the full network. One JSON line.

    python numpy_network.py [--quick]
"""
import argparse

import numpy as np

import common


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    common.check_network()   # the reference itself against NeuroODE's output
    s = common.sizes(args.quick)
    n, b, steps = s["neurons"], s["batch"], s["steps"]
    net = common.simulate_network(s)
    seconds, runs, (v, _) = common.median_time(lambda: common.reference_simulate(net, steps), min(3, s["repeats"]))
    common.emit(dict(tool="numpy", version=np.__version__, machine=common.machine(), workload="network-forward",
                     precision="f64", seconds=seconds, neuronStepsPerSecond=n * b * steps / seconds, runs=runs,
                     finalMeanV=float(v.mean()),
                     settings=dict(neurons=n, batch=b, steps=steps, dt=0.1, variant="reference")))


if __name__ == "__main__":
    main()
