"""Izhikevich reference spike times for the Izhikevich model tests.

v' = 0.04 v^2 + 5 v + 140 - u + I,  u' = a (b v - u)  (ms, mV); when v reaches 30: v <- c, u <- u + d.
For each preset (a, b, c, d) -- regular spiking (0.02, 0.2, -65, 8), fast spiking (0.1, 0.2, -65, 2),
chattering (0.02, 0.2, -50, 2), intrinsically bursting (0.02, 0.2, -55, 4) -- with I = 10 from
(v, u) = (-65, b * -65) over 0..200 ms: SciPy's DOP853 at rtol = atol = 1e-12, a terminal event
v - 30 = 0 (upward), the reset applied there and the solve restarted. Records the spike times and
the state at t = 200 ms. Writes Tests/NeuroODETests/References/izhikevich.json.
"""
import json
import pathlib

from scipy.integrate import solve_ivp

PRESETS = {
    "regular-spiking": (0.02, 0.2, -65.0, 8.0),
    "fast-spiking": (0.1, 0.2, -65.0, 2.0),
    "chattering": (0.02, 0.2, -50.0, 2.0),
    "intrinsically-bursting": (0.02, 0.2, -55.0, 4.0),
}
CURRENT, END = 10.0, 200.0


def simulate(a, b, c, d):
    def rhs(t, y):
        v, u = y
        return [0.04 * v * v + 5 * v + 140 - u + CURRENT, a * (b * v - u)]

    def threshold(t, y):
        return y[0] - 30.0

    threshold.terminal = True
    threshold.direction = 1
    t, y, spikes = 0.0, [-65.0, b * -65.0], []
    while True:
        solution = solve_ivp(rhs, (t, END), y, method="DOP853", events=threshold, rtol=1e-12, atol=1e-12)
        assert solution.status >= 0
        if solution.status == 1:
            t = float(solution.t_events[0][0])
            v, u = solution.y_events[0][0]
            spikes.append(t)
            y = [c, u + d]
        else:
            return spikes, solution.y[:, -1].tolist()


out = {"current": CURRENT, "endTime": END, "method": "scipy.integrate.solve_ivp DOP853 rtol=atol=1e-12, terminal events",
       "presets": {}}
for name, (a, b, c, d) in PRESETS.items():
    spikes, final = simulate(a, b, c, d)
    out["presets"][name] = {"parameters": [a, b, c, d, CURRENT], "initialState": [-65.0, b * -65.0],
                            "spikeTimes": spikes, "finalState": final}
    print(name, len(spikes), "spikes, first", spikes[:3])
path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/izhikevich.json"
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {path}")
