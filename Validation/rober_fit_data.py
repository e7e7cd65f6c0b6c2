"""Reference data of the ROBER fit task (SPEC "Tasks" -> ROBER fit), computed with SciPy.

ROBER (k1 = 0.04, k2 = 3e7, k3 = 1e4) from y0 = (1, 0, 0), sampled at the task's 50 times
10^(-5 + 10 k / 49), k = 0..49. Solved twice, with Radau and with BDF, both at rtol 1e-10 and
per-component atol (1e-14, 1e-18, 1e-14) with the analytic Jacobian; the JSON holds the Radau
solution and the largest Radau-vs-BDF difference per species relative to that species' maximum,
which bounds the reference's own error (the test's bar must sit above it).

Writes Tests/NeuroODETests/References/rober_fit_data.json.
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp

K1, K2, K3 = 0.04, 3e7, 1e4


def rhs(t, y):
    y1, y2, y3 = y
    return [-K1 * y1 + K3 * y2 * y3, K1 * y1 - K2 * y2 * y2 - K3 * y2 * y3, K2 * y2 * y2]


def jac(t, y):
    y1, y2, y3 = y
    return [[-K1, K3 * y3, K3 * y2],
            [K1, -2 * K2 * y2 - K3 * y3, -K3 * y2],
            [0.0, 2 * K2 * y2, 0.0]]


def main():
    times = 10.0 ** (-5 + 10 * np.arange(50) / 49)
    atol = [1e-14, 1e-18, 1e-14]
    solutions = {}
    for method in ("Radau", "BDF"):
        s = solve_ivp(rhs, (0.0, times[-1]), [1.0, 0.0, 0.0], method=method, t_eval=times,
                      rtol=1e-10, atol=atol, jac=jac)
        assert s.success, s.message
        solutions[method] = s.y.T
    radau, bdf = solutions["Radau"], solutions["BDF"]
    scale = radau.max(axis=0)
    spread = (np.abs(radau - bdf) / scale).max(axis=0)
    out = {
        "description": "ROBER at 50 log-spaced times in [1e-5, 1e5], SciPy Radau rtol 1e-10",
        "times": times.tolist(),
        "states": radau.tolist(),
        "speciesMaximum": scale.tolist(),
        "radauBDFRelativeSpread": spread.tolist(),
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/rober_fit_data.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("species maximum", scale, "Radau vs BDF spread (relative to maximum)", spread)


if __name__ == "__main__":
    main()
