"""Self-test of the suite's own machinery (no timing): the seeded-network port against NeuroODE's
output, the readout quadrature, the NeuroODE command wrapper and the report's arithmetic.

    python test_peers.py        # prints "N passed, 0 failed"; exit status 1 on a failure
"""
import json
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

import common
import report

HERE = pathlib.Path(__file__).resolve().parent


def test_port_reproduces_neuroode():
    """The ported generator and constructors give NeuroODE's network: the NumPy leapfrog lands on
    NeuroODE's final state to 1e-9 mV (a wrong weight or token would be off by millivolts)."""
    _, v, _ = common.check_network()
    reference = np.array(json.loads((HERE / "reference_forward.json").read_text())["finalV"])
    assert np.max(np.abs(v.ravel() - reference)) < 1e-9
    # And a different seed gives a different network (the check is not vacuous).
    other = common.seeded_network(8, 50, 5, 4, 6.0)
    v_other, _ = common.reference_simulate(other, 300)
    assert np.max(np.abs(v_other.ravel() - reference)) > 1.0


def test_generator_bounds():
    g = common.SeededGenerator(7, (1, 2))
    draws = [g.below(5) for _ in range(2000)]
    assert set(draws) == {0, 1, 2, 3, 4}
    units = [g.unit() for _ in range(2000)]
    assert 0 <= min(units) and max(units) < 1 and abs(np.mean(units) - 0.5) < 0.03
    gauss = np.array([g.gaussian() for _ in range(4000)])
    assert abs(gauss.mean()) < 0.06 and abs(gauss.std() - 1) < 0.05


def test_readout_weights_are_the_trapezoid_of_the_window():
    """Q = trapezoid sum of T·1(t ≥ t_end − 10 ms) over the steps: only the last 101 points carry
    weight, and the first interval counts its inside end, so a constant sums to (10 + Δt/2)/10."""
    for steps, total in ((100, 1.0), (3000, 1.005), (10000, 1.005)):   # 100 steps: the window is the span
        c = common.readout_weights(steps, 0.1)
        assert abs(c.sum() - total) < 1e-12
        assert np.count_nonzero(c) == 101
        assert c[-1] == 0.5 * c[-2]


def test_reference_loss_is_neuroodes():
    """The NumPy loss equals NeuroODE's bptt loss on the same seeded network (6 printed decimals)."""
    ref = json.loads((HERE / "reference_forward.json").read_text())["loss"]
    net = common.seeded_network(ref["neurons"], 50, ref["batch"], ref["seed"], ref["steps"] * 0.1 / 50)
    assert abs(common.reference_loss(net, ref["steps"]) - ref["value"]) < 6e-7


def test_segment_schedule():
    segs = common.segment_schedule(3000, 0.1, 6.0, 50)
    assert segs[0] == 0 and segs[59] == 0 and segs[60] == 1 and segs[-1] == 49
    assert np.all(np.bincount(segs) == 60)


def run_wrapper(workload, command):
    out = subprocess.run([sys.executable, str(HERE / "run_neuroode.py"), workload, "f64", "--"] + command,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_wrapper_reads_times_and_records_failures():
    # The shape `neuroode bench … --format json` prints: settings as strings, numbers under measurements.
    doc = {"tool": "neuroode", "benchmark": "es", "precision": "f32", "threads": 2,
           "settings": {"neurons": "16", "dt": "0.1", "samples": "4"},
           "measurements": {"seconds": 12.5, "secondsPerIteration": 12.5, "peakBytes": 1000, "loss": 1.05}}
    r = run_wrapper("es-iteration", [sys.executable, "-c", f"print({json.dumps(json.dumps(doc))})"])
    assert r["status"] == "ok" and r["seconds"] == 12.5 and r["peakBytes"] == 1000 and r["loss"] == 1.05
    assert r["settings"] == {"neurons": 16, "dt": 0.1, "samples": 4} and r["timeField"] == "secondsPerIteration"
    r = run_wrapper("spiral-H50", [sys.executable, "-c", "print('{\"millisecondsPerIteration\": 3.0, \"seconds\": 9}')"])
    assert r["seconds"] == 0.003 and r["timeField"] == "millisecondsPerIteration"
    r = run_wrapper("rober", [sys.executable, "-c", "import sys; sys.exit('error: Unknown option --format')"])
    assert r["status"] == "missing" and "Unknown option" in r["error"]
    r = run_wrapper("rober", [sys.executable, "-c", "print('not json')"])
    assert r["status"] == "missing"


def test_report_ratios_and_fraction():
    probe = {"tool": "machine", "cores": 2, "gemmFlopsPerSecondF641Thread": 40e9, "expPerSecondF641Thread": 1e9,
             "gemmFlopsPerSecondF321Thread": 80e9, "expPerSecondF321Thread": 2e9}
    settings = {"neurons": 128, "batch": 64, "steps": 3000}
    records = [
        {"tool": "neuroode", "workload": "network-forward", "precision": "f64", "seconds": 0.2, "status": "ok"},
        {"tool": "jax", "workload": "network-forward", "precision": "f64", "seconds": 0.4, "settings": dict(settings, variant="a")},
        {"tool": "jax", "workload": "network-forward", "precision": "f64", "seconds": 0.5, "settings": dict(settings, variant="b")},
        {"tool": "neuroode", "workload": "bptt", "precision": "f64", "seconds": 1.0, "peakBytes": 5e8, "status": "ok"},
        {"tool": "jax", "workload": "bptt", "precision": "f32", "seconds": 2.0, "addedBytes": 1.6e9, "settings": settings},
        {"tool": "neuroode", "workload": "rober", "precision": "f64", "status": "missing", "error": "x"},
        {"tool": "c-cvode", "workload": "rober", "precision": "f64", "milliseconds": 1.1},
    ]
    # Lower bound of the forward: 128·64·3000 neuron-steps × (2·128 flops / 80 GFLOP/s + 3 exp / 2 G/s).
    bound = 128 * 64 * 3000 * (2 * 128 / 80e9 + 3 / 2e9)
    assert abs(report.limit_seconds(records[1], probe) - bound) < 1e-12
    text = report.table(records, probe)
    rows = text.splitlines()
    forward = [r for r in rows if r.startswith("| network forward | f64")]
    assert len(forward) == 1 and "jax (a)" in forward[0] and "| 0.50 |" in forward[0]
    assert f"{100 * bound / 0.2:.2g} %" in forward[0]
    bptt = [r for r in rows if r.startswith("| BPTT | f32")]
    assert len(bptt) == 1 and "1 s (f64)" in bptt[0] and "| 0.50 |" in bptt[0] and "500 MB / 1.6 GB" in bptt[0]
    rober = [r for r in rows if r.startswith("| ROBER")]
    assert len(rober) == 1 and "missing" in rober[0] and "1.1 ms" in rober[0]


def test_report_files():
    with tempfile.TemporaryDirectory() as folder:
        directory = pathlib.Path(folder)
        lines = [{"tool": "machine", "workload": "probe", "cores": 1},
                 {"tool": "scipy", "workload": "rober", "precision": "f64", "milliseconds": 100.0},
                 {"tool": "neuroode", "workload": "rober", "precision": "f64", "status": "missing", "error": "no"}]
        (directory / "results.jsonl").write_text("noise\n" + "\n".join(json.dumps(x) for x in lines) + "\n")
        subprocess.run([sys.executable, str(HERE / "report.py"), folder], check=True, capture_output=True)
        data = json.loads((directory / "results.json").read_text())
        assert len(data["records"]) == 2 and data["machine"]["cores"] == 1
        assert (directory / "results.csv").read_text().count("\n") == 3
        assert "neuroode rober f64: no" in (directory / "report.md").read_text()
        assert (directory / "plot.png").stat().st_size > 1000


def main():
    tests = [(name, fn) for name, fn in sorted(globals().items()) if name.startswith("test_")]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"ok   {name}")
        except Exception as error:  # report every failure, then fail the run
            failed += 1
            print(f"FAIL {name}: {type(error).__name__}: {error}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
