"""Reference values for a small recurrent Morris-Lecar network (Tests/NeuroODETests/NetworkReferenceTests).

The network of SPEC "Networks": N neurons, B independent trials, token input u_b(t) held for
token_duration ms, I = I_bias + gain (bias + W_in u + W_rec T(V)), snic neuron constants and the
authors' network synapse T(V) = 1/(1 + exp(-(V + 3)/8)). Written from the textbook Morris-Lecar
formulas (tanh, cosh), independently of the Swift code.

Writes Tests/NeuroODETests/References/network_reference.json with the weights, the input, two
right-hand-side evaluations and the state at t_end from SciPy's DOP853 (rtol = atol = 1e-12),
integrated segment by segment so that the input's jumps are stepped over exactly.
"""
import json
import pathlib

import numpy as np
from scipy.integrate import solve_ivp

N, M, B = 4, 3, 2
token_duration = 5.0
t_end = 10.0
C, gL, gCa, gK, VL, VCa, VK, V1, V2, V3, V4, phi = 20, 2, 4, 8, -60, 120, -84, -1.2, 18, 12, 17, 2 / 30
VT, KP = -3.0, 8.0
gain, I_bias = 36.75, 39.9

rng = np.random.default_rng(20261122)
vocabulary = rng.choice([0.0, 0.2], size=(3, M))
vocabulary[0] = [0.2, 0.0, 0.2]  # make sure no token is all zeros
sequences = [[0, 2], [1, 0]]
W_in = rng.uniform(-1, 1, size=(N, M))
W_rec = rng.uniform(-0.8, 0.8, size=(N, N))
bias = rng.uniform(0.0, 0.2, size=N)
V0 = -20 + 5 * rng.standard_normal((N, B))
w0 = rng.uniform(0.01, 0.3, size=(N, B))


def u_matrix(t):
    k = min(int(np.floor(t / token_duration)), len(sequences[0]) - 1)
    return np.stack([vocabulary[sequences[b][k]] for b in range(B)], axis=1)  # M x B


def rhs_at(t, y, segment_u):
    V = y[: N * B].reshape(N, B)
    w = y[N * B:].reshape(N, B)
    T = 1 / (1 + np.exp(-(V - VT) / KP))
    current = I_bias + gain * (bias[:, None] + W_in @ segment_u + W_rec @ T)
    m_inf = 0.5 * (1 + np.tanh((V - V1) / V2))
    w_inf = 0.5 * (1 + np.tanh((V - V3) / V4))
    tau = 1 / np.cosh((V - V3) / (2 * V4))
    dV = (gL * (VL - V) + gCa * m_inf * (VCa - V) + gK * w * (VK - V) + current) / C
    dw = phi * (w_inf - w) / tau
    return np.concatenate([dV.ravel(), dw.ravel()])


y0 = np.concatenate([V0.ravel(), w0.ravel()])
rhs_cases = []
for t, scale in [(1.0, 0.0), (7.5, 1.0)]:
    y = y0.copy()
    y[: N * B] += scale * rng.uniform(-30, 30, size=N * B)
    rhs_cases.append({"time": t, "state": y.tolist(), "derivative": rhs_at(t, y, u_matrix(t)).tolist()})

y = y0.copy()
boundaries = [0.0, token_duration, t_end]
for a, b in zip(boundaries[:-1], boundaries[1:]):
    u = u_matrix(0.5 * (a + b))
    sol = solve_ivp(lambda t, yy: rhs_at(t, yy, u), (a, b), y, method="DOP853", rtol=1e-12, atol=1e-12)
    assert sol.success
    y = sol.y[:, -1]

out = {
    "neurons": N, "inputs": M, "batch": B, "tokenDuration": token_duration, "endTime": t_end,
    "vocabulary": vocabulary.ravel().tolist(), "sequences": sequences,
    "inputWeights": W_in.ravel().tolist(), "recurrentWeights": W_rec.ravel().tolist(),
    "bias": bias.tolist(), "gain": gain, "biasCurrent": I_bias,
    "initialState": y0.tolist(), "rightHandSide": rhs_cases, "finalState": y.tolist(),
}
path = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/network_reference.json"
path.write_text(json.dumps(out, indent=1))
print("V(t_end):", np.round(y[: N * B], 3))
print("wrote", path)
