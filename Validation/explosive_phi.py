#!/usr/bin/env python3
"""Chooses φ for Morris–Lecar's `explosive` preset (SPEC "Models": the Hopf set with a larger φ,
"φ × 10" in the paper, reported silent at the operating current).

Scans φ on a 0.01 grid from 0.04 (the `hopf` value) to 0.40 (the paper's ×10) for the Hopf set
at I = 100 and records, for each φ, the spike count after a 1 s transient over a 5 s SciPy run
(DOP853, rtol = atol = 1e-10) from the turn-off initial state. "Tonic" means regular spiking to
the end of the run. The largest tonic grid value is the preset; the edge of the tonic range is
then located by bisection to show the margin, and spiking from a second, near-rest initial state
shows whether the limit cycle coexists with a stable rest state (it does, near the edge).

Writes Tests/NeuroODETests/References/explosive_phi.json.
Run: python3 Validation/explosive_phi.py
"""
import json
import pathlib

import numpy as np

from ml_reference import parameters, spike_times

CURRENT = 100.0
T_END, TRANSIENT = 5000.0, 1000.0
NEAR_REST = [-24.5, 0.27]  # close to the I = 100 equilibrium (V ≈ −24.53 mV)


def late_spikes(phi, y0=None):
    kwargs = {} if y0 is None else {"y0": y0}
    s = spike_times(parameters("hopf", CURRENT, phi=phi), T_END, **kwargs)
    return s[s > TRANSIENT]


def is_tonic(late):
    """At least 10 spikes after the transient, the last within two mean periods of the end."""
    if len(late) < 10:
        return False
    period = float(np.mean(np.diff(late)))
    return T_END - late[-1] < 2 * period


def main():
    grid = np.round(np.arange(0.04, 0.40 + 1e-9, 0.01), 2)
    scan = []
    for phi in grid:
        late = late_spikes(phi)
        scan.append({
            "phi": float(phi),
            "lateSpikeCount": int(len(late)),
            "meanIntervalMs": float(np.mean(np.diff(late))) if len(late) > 1 else None,
            "tonic": bool(is_tonic(late)),
        })
    tonic = [row["phi"] for row in scan if row["tonic"]]
    chosen = max(tonic)
    # Every grid value above the chosen one is silent: the choice is not an isolated window.
    assert all(not row["tonic"] for row in scan if row["phi"] > chosen)

    lower, upper = chosen, chosen + 0.01
    while upper - lower > 1e-4:
        mid = 0.5 * (lower + upper)
        lower, upper = (mid, upper) if is_tonic(late_spikes(mid)) else (lower, mid)

    out = {
        "source": "Validation/explosive_phi.py (SciPy solve_ivp DOP853, rtol = atol = 1e-10)",
        "current": CURRENT,
        "window": [TRANSIENT, T_END],
        "scan": scan,
        "chosenPhi": chosen,
        "chosenMeanIntervalMs": next(r["meanIntervalMs"] for r in scan if r["phi"] == chosen),
        "hopfMeanIntervalMs": next(r["meanIntervalMs"] for r in scan if r["phi"] == 0.04),
        "tonicEdgeBracket": [lower, upper],
        "chosenSpikesFromNearRest": int(len(late_spikes(chosen, NEAR_REST))),
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/explosive_phi.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out.items() if k != "scan"}, indent=2))
    print("tonic grid values:", tonic)


if __name__ == "__main__":
    main()
