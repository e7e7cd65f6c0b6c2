"""FitzHugh–Nagumo reference trajectories for the custom-model tests.

dv/dt = v - v^3/3 - w + I,  dw/dt = (v + a - b w) / tau,  (a, b, tau, I) = (0.7, 0.8, 12.5, 0.5),
(v, w)(0) = (-1, 1), solved by SciPy's DOP853 at rtol 1e-13, atol 1e-13. Writes
- Tests/NeuroODETests/References/fitzhugh_nagumo.json: the states at t = 5, 10, ..., 60 (simulation);
- Tests/NeuroODETests/References/fitzhugh_nagumo_trace.json: v at t = 0.5, 1.0, ..., 40, the
  recording the custom-model example fits (Tests/GradientsTests/CustomModelFitTests.swift).
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp

A, B, TAU, I = 0.7, 0.8, 12.5, 0.5


def rhs(t, y):
    v, w = y
    return [v - v**3 / 3 - w + I, (v + A - B * w) / TAU]


def write(name, end, times, series):
    """Solves on [0, end], samples at `times`, writes References/`name` with the samples as `series`."""
    solution = solve_ivp(rhs, (0.0, end), [-1.0, 1.0], method="DOP853", t_eval=times, rtol=1e-13, atol=1e-13)
    assert solution.success
    out = {
        "parameters": {"a": A, "b": B, "tau": TAU, "I": I},
        "initialState": [-1.0, 1.0],
        "times": times.tolist(),
        **series(solution.y),
        "method": "scipy.integrate.solve_ivp DOP853 rtol=atol=1e-13",
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References" / name
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


write("fitzhugh_nagumo.json", 60.0, np.arange(5.0, 60.0 + 1e-9, 5.0), lambda y: {"states": y.T.tolist()})
write("fitzhugh_nagumo_trace.json", 40.0, np.arange(1, 81) / 2.0, lambda y: {"v": y[0].tolist()})
