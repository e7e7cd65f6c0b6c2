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


times = np.arange(5.0, 60.0 + 1e-9, 5.0)
solution = solve_ivp(rhs, (0.0, 60.0), [-1.0, 1.0], method="DOP853", t_eval=times, rtol=1e-13, atol=1e-13)
assert solution.success
out = {
    "parameters": {"a": A, "b": B, "tau": TAU, "I": I},
    "initialState": [-1.0, 1.0],
    "times": times.tolist(),
    "states": solution.y.T.tolist(),
    "method": "scipy.integrate.solve_ivp DOP853 rtol=atol=1e-13",
}
path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/fitzhugh_nagumo.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")

trace_times = np.arange(1, 81) / 2.0
trace = solve_ivp(rhs, (0.0, 40.0), [-1.0, 1.0], method="DOP853", t_eval=trace_times, rtol=1e-13, atol=1e-13)
assert trace.success
trace_out = {
    "parameters": {"a": A, "b": B, "tau": TAU, "I": I},
    "initialState": [-1.0, 1.0],
    "times": trace_times.tolist(),
    "v": trace.y[0].tolist(),
    "method": "scipy.integrate.solve_ivp DOP853 rtol=atol=1e-13",
}
trace_path = path.with_name("fitzhugh_nagumo_trace.json")
trace_path.write_text(json.dumps(trace_out, indent=1) + "\n")
print(f"wrote {trace_path}")
