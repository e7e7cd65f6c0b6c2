"""Reference Morris–Lecar trajectories for the CLI tests (Tests/CLITests).

Solves the SPEC's Morris–Lecar equations with SciPy's DOP853 at tight tolerances, for the runs
the tests make through `neuroode simulate`: the default hopf preset at I = 100, and the snic
preset with its current changed by --param. Writes Tests/CLITests/References/cli_morris_lecar.json.
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp

COMMON = dict(C=20.0, gL=2.0, gCa=4.0, gK=8.0, VL=-60.0, VCa=120.0, VK=-84.0, V1=-1.2, V2=18.0)
PRESETS = {
    "hopf": dict(V3=2.0, V4=30.0, phi=0.04, I=100.0),
    "snic": dict(V3=12.0, V4=17.0, phi=2.0 / 30.0, I=40.0),
}


def rhs(p):
    def f(t, y):
        v, w = y
        m_inf = 0.5 * (1 + np.tanh((v - p["V1"]) / p["V2"]))
        w_inf = 0.5 * (1 + np.tanh((v - p["V3"]) / p["V4"]))
        tau_inv = np.cosh((v - p["V3"]) / (2 * p["V4"]))
        dv = (p["gL"] * (p["VL"] - v) + p["gCa"] * m_inf * (p["VCa"] - v)
              + p["gK"] * w * (p["VK"] - v) + p["I"]) / p["C"]
        dw = p["phi"] * tau_inv * (w_inf - w)
        return [dv, dw]
    return f


def case(name, preset, changes, y0, t_end, times):
    p = {**COMMON, **PRESETS[preset], **changes}
    sol = solve_ivp(rhs(p), (0.0, t_end), y0, method="DOP853", rtol=1e-12, atol=1e-12,
                    t_eval=times, dense_output=True)
    assert sol.success
    # Spike times: upward crossings of 0 mV, located on the dense output by bisection.
    grid = np.linspace(0.0, t_end, int(t_end / 0.01) + 1)
    v = sol.sol(grid)[0]
    spikes = []
    for i in np.nonzero((v[:-1] < 0) & (v[1:] >= 0))[0]:
        a, b = grid[i], grid[i + 1]
        for _ in range(60):
            mid = 0.5 * (a + b)
            if sol.sol(mid)[0] < 0:
                a = mid
            else:
                b = mid
        spikes.append(0.5 * (a + b))
    return dict(name=name, preset=preset, parameters=changes, y0=y0, tEnd=t_end,
                t=list(times), y=sol.y.T.tolist(), spikes=spikes)


def main():
    times = [float(t) for t in np.arange(0.0, 200.0 + 1e-9, 5.0)]
    cases = [
        case("hopf-default", "hopf", {}, [-41.84, 0.5282], 200.0, times),
        case("snic-I45", "snic", {"I": 45.0}, [-41.84, 0.5282], 200.0, times),
    ]
    out = pathlib.Path(__file__).resolve().parent.parent / "Tests/CLITests/References/cli_morris_lecar.json"
    out.write_text(json.dumps(dict(source="Validation/cli_morris_lecar.py", cases=cases), indent=1))
    for c in cases:
        print(c["name"], "spikes:", [round(s, 3) for s in c["spikes"]])


if __name__ == "__main__":
    main()
