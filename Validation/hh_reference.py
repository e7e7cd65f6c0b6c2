#!/usr/bin/env python3
"""Independent reference for the Hodgkin–Huxley model (SPEC "Models"), solved with SciPy.

The squid axon at I = 10 µA/cm² from V0 = −65 mV with the gates at steady state, solved by
solve_ivp (DOP853, rtol = 1e-12, atol = 1e-12) over [0, 200] ms. Spike times are the upward
crossings of 0 mV located by SciPy's event root finder on the dense output. The rates' removable
singularities are handled here independently of NeuroODE (which uses a Taylor series near them):
x / (1 − e^{−x}) is evaluated as x / −expm1(−x), with its exact limit 1 at x = 0.

Also records the stability change of the rest state (the eigenvalues of the Jacobian at the
equilibrium, by finite differences) at I = 9 and I = 10, to document the default current.

Writes Tests/NeuroODETests/References/hh_reference.json.
Run: python3 Validation/hh_reference.py
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

C, G_NA, G_K, G_L, E_NA, E_K, E_L = 1.0, 120.0, 36.0, 0.3, 50.0, -77.0, -54.387
T_END = 200.0


def linear_rate(x):
    """x / (1 − e^{−x}), with its limit 1 at x = 0."""
    return 1.0 if x == 0 else x / -np.expm1(-x)


def rates(v):
    am = linear_rate((v + 40) / 10)
    bm = 4 * np.exp(-(v + 65) / 18)
    ah = 0.07 * np.exp(-(v + 65) / 20)
    bh = 1 / (1 + np.exp(-(v + 35) / 10))
    an = 0.1 * linear_rate((v + 55) / 10)
    bn = 0.125 * np.exp(-(v + 65) / 80)
    return am, bm, ah, bh, an, bn


def rhs(t, y, current):
    v, m, h, n = y
    am, bm, ah, bh, an, bn = rates(v)
    i_ion = G_NA * m**3 * h * (v - E_NA) + G_K * n**4 * (v - E_K) + G_L * (v - E_L)
    return [(current - i_ion) / C, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]


def steady_gates(v):
    am, bm, ah, bh, an, bn = rates(v)
    return [am / (am + bm), ah / (ah + bh), an / (an + bn)]


def rest_eigenvalues(current):
    """Eigenvalues at the equilibrium: V solves I = I_ion(V, x∞(V))."""
    def residual(v):
        m, h, n = steady_gates(v)
        return rhs(0, [v, m, h, n], current)[0]
    v = brentq(residual, -80, -40, xtol=1e-14)
    y = np.array([v, *steady_gates(v)])
    jac = np.zeros((4, 4))
    for j in range(4):
        step = 1e-6 * max(1.0, abs(y[j]))
        up, down = y.copy(), y.copy()
        up[j] += step
        down[j] -= step
        jac[:, j] = (np.array(rhs(0, up, current)) - np.array(rhs(0, down, current))) / (2 * step)
    return v, np.linalg.eigvals(jac)


def upward_zero(t, y, current):
    return y[0]


upward_zero.direction = 1


def main():
    current = 10.0
    y0 = [-65.0, *steady_gates(-65.0)]
    sol = solve_ivp(rhs, (0.0, T_END), y0, method="DOP853", rtol=1e-12, atol=1e-12, args=(current,),
                    events=upward_zero, dense_output=True)
    assert sol.success, sol.message
    spikes = sol.t_events[0]
    late = spikes[spikes > 50]
    stability = {}
    for i in (9.0, 10.0):
        v_rest, eig = rest_eigenvalues(i)
        stability[str(i)] = {"restVoltage": float(v_rest), "maxRealEigenvalue": float(np.max(eig.real))}
    out = {
        "source": "Validation/hh_reference.py (SciPy solve_ivp DOP853, rtol = atol = 1e-12)",
        "current": current,
        "initialState": [float(x) for x in y0],
        "spikeWindow": [0.0, T_END],
        "spikeTimes": [float(t) for t in spikes],
        "lateRateHz": 1000.0 / float(np.mean(np.diff(late))),
        "finalState": [float(x) for x in sol.y[:, -1]],
        "restStability": stability,
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/hh_reference.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(len(spikes), "spikes; rate", out["lateRateHz"], "Hz; stability", stability)


if __name__ == "__main__":
    main()
