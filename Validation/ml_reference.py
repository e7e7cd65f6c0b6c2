#!/usr/bin/env python3
"""Independent reference for the Morris–Lecar presets (SPEC "Models"), solved with SciPy.

Writes Tests/NeuroODETests/References/ml_reference.json with
  * hopf: spike times (upward crossings of 0 mV, located by SciPy's event root finder on the
    DOP853 dense output) over [0, 1000] ms at I = 100 from the turn-off initial state, the mean
    firing rate over [1000, 3000] ms, and the spike count over [1000, 3000] ms at I = 95 (silent);
  * snic: the onset current located twice, independently of any simulation code in NeuroODE:
    (a) the fold (local maximum) of the steady-state I–V curve, where a saddle-node on the
    invariant circle creates the limit cycle, and (b) a bisection on I of "spikes after the
    transient" with long SciPy runs; plus late spike counts a little below and above onset.

Run: python3 Validation/ml_reference.py
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq, minimize_scalar

COMMON = dict(C=20.0, gL=2.0, gCa=4.0, gK=8.0, VL=-60.0, VCa=120.0, VK=-84.0, V1=-1.2, V2=18.0)
PRESETS = {
    "hopf": dict(V3=2.0, V4=30.0, phi=0.04),
    "snic": dict(V3=12.0, V4=17.0, phi=2.0 / 30.0),
}
Y0 = [-41.84, 0.5282]  # the turn-off task's initial state (SPEC), NeuroODE's default
RTOL = ATOL = 1e-10


def parameters(preset, current, **overrides):
    p = dict(COMMON, **PRESETS[preset], I=current)
    p.update(overrides)
    return p


def rhs(t, y, p):
    v, w = y
    m_inf = 0.5 * (1 + np.tanh((v - p["V1"]) / p["V2"]))
    w_inf = 0.5 * (1 + np.tanh((v - p["V3"]) / p["V4"]))
    rate = p["phi"] * np.cosh((v - p["V3"]) / (2 * p["V4"]))
    dv = (p["gL"] * (p["VL"] - v) + p["gCa"] * m_inf * (p["VCa"] - v) + p["gK"] * w * (p["VK"] - v) + p["I"]) / p["C"]
    return [dv, rate * (w_inf - w)]


def upward_zero(t, y, p):
    return y[0]


upward_zero.direction = 1


def spike_times(p, t_end, y0=Y0, rtol=RTOL, atol=ATOL):
    """Upward crossings of 0 mV on [0, t_end]."""
    sol = solve_ivp(rhs, (0.0, t_end), y0, method="DOP853", rtol=rtol, atol=atol, args=(p,),
                    events=upward_zero)
    assert sol.success, sol.message
    return sol.t_events[0]


def late_spike_count(p, t_end=4000.0, transient=1000.0, **kw):
    s = spike_times(p, t_end, **kw)
    return int(np.sum(s > transient))


def snic_fold_current():
    """Local maximum of the steady-state current I_ss(V) that holds V at rest (w = w∞(V))."""
    p = parameters("snic", 0.0)

    def i_ss(v):
        m_inf = 0.5 * (1 + np.tanh((v - p["V1"]) / p["V2"]))
        w_inf = 0.5 * (1 + np.tanh((v - p["V3"]) / p["V4"]))
        return -(p["gL"] * (p["VL"] - v) + p["gCa"] * m_inf * (p["VCa"] - v) + p["gK"] * w_inf * (p["VK"] - v))

    res = minimize_scalar(lambda v: -i_ss(v), bounds=(-40.0, 0.0), method="bounded",
                          options=dict(xatol=1e-10))
    return float(-res.fun), float(res.x)


def snic_onset_by_simulation(lower, upper, tol=0.01):
    """Bisection on I between a silent and a tonic current (late spikes after 1 s, 6 s runs)."""
    fires = lambda i: late_spike_count(parameters("snic", i), t_end=6000.0, rtol=1e-9, atol=1e-9) >= 2
    assert not fires(lower) and fires(upper)
    while upper - lower > tol:
        mid = 0.5 * (lower + upper)
        lower, upper = (lower, mid) if fires(mid) else (mid, upper)
    return lower, upper


def main():
    hopf100 = spike_times(parameters("hopf", 100.0), 1000.0)
    late100 = spike_times(parameters("hopf", 100.0), 3000.0)
    late100 = late100[late100 > 1000.0]
    rate_hz = 1000.0 / float(np.mean(np.diff(late100)))
    silent95 = late_spike_count(parameters("hopf", 95.0), t_end=3000.0)

    fold_current, fold_voltage = snic_fold_current()
    sim_lower, sim_upper = snic_onset_by_simulation(fold_current - 2.0, fold_current + 2.0)
    below, above = round(fold_current - 0.5, 1), round(fold_current + 0.5, 1)
    counts = {str(i): late_spike_count(parameters("snic", i), t_end=4000.0) for i in (below, above)}

    out = {
        "source": "Validation/ml_reference.py (SciPy solve_ivp DOP853, rtol = atol = 1e-10)",
        "initialState": Y0,
        "hopf": {
            "current": 100.0,
            "spikeTimes": [float(t) for t in hopf100],
            "spikeWindow": [0.0, 1000.0],
            "lateRateHz": rate_hz,
            "lateWindow": [1000.0, 3000.0],
            "silentCurrent": 95.0,
            "silentLateSpikeCount": silent95,
        },
        "snic": {
            "foldCurrent": fold_current,
            "foldVoltage": fold_voltage,
            "onsetBracketBySimulation": [sim_lower, sim_upper],
            "silentCurrent": below,
            "tonicCurrent": above,
            "lateSpikeCounts": counts,
            "lateWindow": [1000.0, 4000.0],
        },
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/ml_reference.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps({k: v for k, v in out["hopf"].items() if k != "spikeTimes"}, indent=2))
    print(json.dumps(out["snic"], indent=2))


if __name__ == "__main__":
    main()
