"""Shared pieces of the peer benchmarks (Validation/bench/peers/README.md).

* The evidence task's network, rebuilt bit for bit from NeuroODE's seeds: a port of
  `SeededGenerator` (xoshiro256** seeded by SplitMix64, Marsaglia's polar Gaussian, Swift's
  `next(upperBound:)`), `TokenSequenceInput.random`, `MorrisLecarNetwork.seeded` and
  `EvidenceReadoutLoss.seededParameters`. The peers therefore simulate exactly the network (weights,
  tokens, initial state) that `neuroode bench` simulates for the same seed.
* A float64 NumPy reference of the leapfrog on that network, written from the model definitions
  (textbook tanh/cosh Morris–Lecar, README "Performance"/SPEC "Evidence integration"), against
  which every peer checks its own forward pass, and which itself is checked against NeuroODE's
  output in reference_forward.json.
* Measurement helpers: JSON lines, median timing, resident-memory high-water marks.
"""
from __future__ import annotations

import json
import math
import os
import pathlib
import platform
import sys
import time
from dataclasses import dataclass

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
MASK = (1 << 64) - 1


def _fix_malloc_thresholds():
    """Fixed glibc thresholds, so that every block over 128 kB is mapped on its own and unmapped
    when freed. By default glibc raises the mmap threshold after each large free, after which big
    buffers come from the heap and stay resident: a later measurement would then see its buffers
    as already resident and report too little added memory."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 128 * 1024)   # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 * 1024)   # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


_fix_malloc_thresholds()

# snic preset: C, gL, gCa, gK, VL, VCa, VK, V1, V2, V3, V4, phi (README, SPEC "Networks").
C, GL, GCA, GK, VL, VCA, VK, V1, V2, V3, V4, PHI = 20.0, 2.0, 4.0, 8.0, -60.0, 120.0, -84.0, -1.2, 18.0, 12.0, 17.0, 2.0 / 30.0
# The authors' network synapse T(V) = 1/(1 + exp(-(V - VT)/KP)).
VT, KP = -3.0, 8.0
GAIN, I_BIAS, BIAS = 36.75, 39.9, 0.1
REST_GATE = 0.014173
WINDOW = 10.0   # readout window at the end of the span (ms)
CLASSES = 3


# ---------------------------------------------------------------------------------------------
# NeuroODE's random streams


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK


class SeededGenerator:
    """Port of NeuroODE's `SeededGenerator` (same sequence for the same seed and stream)."""

    def __init__(self, seed: int, stream: tuple[int, ...] | None = None):
        if stream is not None:
            key = _mix(seed)
            for depth, component in enumerate(stream):
                key = _mix(key ^ _mix((component + 0x9E3779B97F4A7C15 * (depth + 1)) & MASK))
            seed = key
        state = seed
        s = []
        for _ in range(4):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            s.append(_mix(state))
        if s[0] | s[1] | s[2] | s[3] == 0:
            s[0] = 0x9E3779B97F4A7C15
        self.s = s
        self.spare = None

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        result = (_rotl((s1 * 5) & MASK, 7) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 45)
        self.s = [s0, s1, s2, s3]
        return result

    def unit(self) -> float:
        return float(self.next() >> 11) * 2.0 ** -53

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.unit()

    def gaussian(self) -> float:
        if self.spare is not None:
            g, self.spare = self.spare, None
            return g
        while True:
            u = 2 * self.unit() - 1
            v = 2 * self.unit() - 1
            s = u * u + v * v
            if 0 < s < 1:
                factor = math.sqrt(-2 * math.log(s) / s)
                self.spare = v * factor
                return u * factor

    def below(self, bound: int) -> int:
        """Swift's `next(upperBound:)` (Lemire's multiply-and-reject)."""
        m = self.next() * bound
        if (m & MASK) < bound:
            t = ((1 << 64) - bound) % bound
            while (m & MASK) < t:
                m = self.next() * bound
        return m >> 64


@dataclass
class Network:
    """The seeded evidence-task network of N neurons, M input channels and B trials.

    Arrays are float64, neuron-major (N × B), as NeuroODE lays them out."""
    vocabulary: np.ndarray   # K × M, entries 0 or 0.2
    tokens: np.ndarray       # segments × B, token index per segment and trial
    token_duration: float    # ms
    w_in: np.ndarray         # N × M
    w_rec: np.ndarray        # N × N
    v0: np.ndarray           # N × B
    w0: np.ndarray           # N × B
    w_out: np.ndarray        # CLASSES × N
    b_out: np.ndarray        # CLASSES
    labels: np.ndarray       # B, trial b has label b mod 3

    @property
    def neurons(self) -> int:
        return self.w_rec.shape[0]

    @property
    def batch(self) -> int:
        return self.v0.shape[1]

    def input_segments(self) -> np.ndarray:
        """W_in·u for every segment, segments × N × B (the gathered token projections)."""
        projected = self.w_in @ self.vocabulary.T            # N × K
        return np.ascontiguousarray(projected[:, self.tokens].transpose(1, 0, 2))


def seeded_network(neurons: int, inputs: int, batch: int, seed: int, token_duration: float,
                   segments: int = 50, vocabulary_size: int = 5) -> Network:
    """`TokenSequenceInput.random` + `MorrisLecarNetwork.seeded` + `EvidenceReadoutLoss.seededParameters`."""
    g = SeededGenerator(seed)
    vocabulary = np.array([0.2 if g.next() >> 63 == 1 else 0.0 for _ in range(vocabulary_size * inputs)])
    sequences = [[g.below(vocabulary_size) for _ in range(segments)] for _ in range(batch)]
    half = 1 / math.sqrt(neurons)
    s0 = SeededGenerator(seed, (0,))
    w_in = np.array([s0.uniform(0.1 - half, 0.1 + half) for _ in range(neurons * inputs)])
    s1 = SeededGenerator(seed, (1,))
    w_rec = [s1.uniform(0.001 - half, 0.001 + half) for _ in range(neurons * neurons)]
    indices = list(range(len(w_rec)))
    reset = int(math.floor(0.2 * len(w_rec) + 0.5))
    for k in range(reset):
        j = k + s1.below(len(indices) - k)
        indices[k], indices[j] = indices[j], indices[k]
        w_rec[indices[k]] = 0.001
    s2 = SeededGenerator(seed, (2,))
    v0 = np.array([-20 + 5 * s2.gaussian() for _ in range(neurons * batch)])
    s3 = SeededGenerator(seed, (3,))
    w_out = np.array([s3.uniform(0.1 - half, 0.1 + half) for _ in range(CLASSES * neurons)])
    return Network(
        vocabulary=vocabulary.reshape(vocabulary_size, inputs),
        tokens=np.array(sequences, dtype=np.int64).T.copy(),
        token_duration=token_duration,
        w_in=w_in.reshape(neurons, inputs), w_rec=np.array(w_rec).reshape(neurons, neurons),
        v0=v0.reshape(neurons, batch), w0=np.full((neurons, batch), REST_GATE),
        w_out=w_out.reshape(CLASSES, neurons), b_out=np.zeros(CLASSES),
        labels=np.arange(batch) % CLASSES)


def simulate_network(s: dict) -> Network:
    """The network of `neuroode bench simulate` (NetworkBenchmark): tokens of 6 ms, as many as the
    span needs (50 over 3000 steps)."""
    segments = max(1, math.ceil(s["steps"] * 0.1 / 6.0))
    return seeded_network(s["neurons"], s["inputs"], s["batch"], s["seed"], 6.0, segments=segments)


def gradient_network(s: dict, steps: int) -> Network:
    """The network of `neuroode bench es|bptt` (NetworkGradientBenchmark): 50 tokens sharing the
    span (6 ms each over 3000 steps, 20 ms over 10 000)."""
    return seeded_network(s["neurons"], s["inputs"], s["batch"], s["seed"], steps * 0.1 / 50)


def segment_schedule(steps: int, dt: float, token_duration: float, segments: int) -> np.ndarray:
    """The input segment each leapfrog step reads: the token in force at the step's midpoint."""
    mid = np.arange(steps) * dt + 0.5 * dt
    return np.clip(np.floor(mid / token_duration).astype(np.int64), 0, segments - 1)


def readout_weights(steps: int, dt: float) -> np.ndarray:
    """c_n with Q = Σ_n c_n T(V_n), n = 0 … steps: the trapezoid sum of T(V)·1(t ≥ t_end − 10 ms)
    over the leapfrog's steps (NeuroODE's discrete quadrature), divided by the window."""
    t = np.arange(steps + 1) * dt
    t_end = steps * dt
    start = t_end - WINDOW
    inside = (t >= start - 1e-9 * max(1.0, abs(start))).astype(float)
    c = np.zeros(steps + 1)
    c[:-1] += 0.5 * dt * inside[:-1]
    c[1:] += 0.5 * dt * inside[1:]
    # An interval with one end outside the window still counts its inside end (r = 0 outside).
    return c / WINDOW


# ---------------------------------------------------------------------------------------------
# Model (textbook Morris–Lecar, float64 reference)


def synapse(v):
    return 1 / (1 + np.exp(-(v - VT) / KP))


def gate_kinetics(v):
    """w∞(V) and τ(V) of the potassium gate."""
    w_inf = 0.5 * (1 + np.tanh((v - V3) / V4))
    tau = 1 / (PHI * np.cosh((v - V3) / (2 * V4)))
    return w_inf, tau


def reference_simulate(net: Network, steps: int, dt: float = 0.1, record: bool = False):
    """The leapfrog of Leapfrog.swift (extrapolated midpoint) in NumPy float64.

    Returns (V_final, w̄_final[, V history (steps+1) × N × B])."""
    segs = segment_schedule(steps, dt, net.token_duration, net.tokens.shape[0])
    u = net.input_segments()
    bias = BIAS
    v = net.v0.copy()
    w_inf, tau = gate_kinetics(v)
    x = net.w0 + dt / (2 * tau) * (net.w0 - w_inf)   # x_{-1/2}, so that the reported w̄_0 = w0
    v_last = v.copy()
    history = [v.copy()] if record else None
    for k in range(steps):
        w_inf, tau = gate_kinetics(v)
        x_new = (w_inf * dt + (tau - 0.5 * dt) * x) / (tau + 0.5 * dt)
        slope = 0.5 if k > 0 else 0.0
        v_mid = v + slope * (v - v_last)
        current = I_BIAS + GAIN * (bias + u[segs[k]] + net.w_rec @ synapse(v_mid))
        m_inf = 0.5 * (1 + np.tanh((v_mid - V1) / V2))
        g = GL + GCA * m_inf + GK * x_new
        e = current + GL * VL + GCA * m_inf * VCA + GK * x_new * VK
        v_last = v
        v = (v * (C - 0.5 * dt * g) + dt * e) / (C + 0.5 * dt * g)
        x = x_new
        if record:
            history.append(v.copy())
    w_inf, tau = gate_kinetics(v)
    x_next = (w_inf * dt + (tau - 0.5 * dt) * x) / (tau + 0.5 * dt)
    w_bar = 0.5 * (x + x_next)
    if record:
        return v, w_bar, np.array(history)
    return v, w_bar


def reference_loss(net: Network, steps: int, dt: float = 0.1) -> float:
    """Cross-entropy of the readout averaged over the last 10 ms (EvidenceReadoutLoss)."""
    _, _, history = reference_simulate(net, steps, dt, record=True)
    c = readout_weights(steps, dt)
    q = np.tensordot(c, synapse(history), axes=1)          # N × B
    y = net.w_out @ q + net.b_out[:, None]                 # C × B
    top = y.max(axis=0)
    lse = top + np.log(np.exp(y - top).sum(axis=0))
    return float(np.mean(lse - y[net.labels, np.arange(net.batch)]))


# ---------------------------------------------------------------------------------------------
# The forward check every network peer runs

CHECK = dict(neurons=8, inputs=50, batch=5, seed=3, token_duration=6.0, steps=300, dt=0.1)


def check_network():
    """The small network of reference_forward.json and its NumPy float64 final state, verified
    against NeuroODE's own output (`neuroode simulate ml-network`) before any peer uses it."""
    ref = json.loads((HERE / "reference_forward.json").read_text())
    net = seeded_network(CHECK["neurons"], CHECK["inputs"], CHECK["batch"], CHECK["seed"], CHECK["token_duration"])
    v, w = reference_simulate(net, CHECK["steps"], CHECK["dt"])
    neuro_v = np.array(ref["finalV"]).reshape(v.shape)
    neuro_w = np.array(ref["finalW"]).reshape(w.shape)
    err = max(np.max(np.abs(v - neuro_v)), np.max(np.abs(w - neuro_w)))
    if not err <= 1e-9:
        raise SystemExit(f"NumPy reference differs from NeuroODE's ml-network by {err:.3e} (> 1e-9)")
    return net, v, w


def assert_close(name: str, got, expected, tolerance: float):
    err = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - expected)))
    if not err <= tolerance:
        raise SystemExit(f"{name}: forward check failed, max |ΔV| = {err:.3e} mV > {tolerance:g}")
    return err


# ---------------------------------------------------------------------------------------------
# Measurement


def emit(record: dict):
    """One measurement as one JSON line on standard output."""
    print(json.dumps(record, sort_keys=False), flush=True)


def log(message: str):
    print(message, file=sys.stderr, flush=True)


def median_time(fn, repeats: int):
    """Runs fn() `repeats` times; returns (median seconds, all runs, last result)."""
    runs, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        runs.append(time.perf_counter() - start)
    return float(np.median(runs)), runs, result


def _status_kb(field: str) -> int:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def reset_peak_memory():
    """Returns freed heap to the system (malloc_trim), resets the kernel's resident high-water mark
    (VmHWM) and returns the current RSS in bytes."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    try:
        pathlib.Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status_kb("VmRSS") * 1024


def peak_memory():
    """VmHWM in bytes: the resident high-water mark since the last reset."""
    return _status_kb("VmHWM") * 1024


def measure_peak(fn):
    """Runs fn() once; returns (seconds, result, peak RSS bytes, bytes added over the RSS before)."""
    before = reset_peak_memory()
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    peak = peak_memory()
    return seconds, result, peak, max(0, peak - before)


def machine() -> dict:
    model = platform.processor()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count()}


def sizes(quick: bool) -> dict:
    """The workload sizes: the issue's (full) or tiny ones that only check the scripts run.

    PEERS_SIZES, a JSON object (e.g. '{"neurons": 16, "batch": 8}'), overrides entries."""
    if quick:
        chosen = dict(neurons=16, inputs=50, batch=8, steps=100, repeats=1, samples=4,
                      bptt_steps=100, checkpoint_steps=200, segment=20, seed=1)
    else:
        chosen = dict(neurons=128, inputs=50, batch=64, steps=3000, repeats=5, samples=100,
                      bptt_steps=3000, checkpoint_steps=10000, segment=100, seed=1)
    overrides = json.loads(os.environ.get("PEERS_SIZES", "{}"))
    unknown = set(overrides) - set(chosen)
    if unknown:
        raise SystemExit(f"PEERS_SIZES: unknown entries {sorted(unknown)} (known: {sorted(chosen)})")
    return dict(chosen, **overrides)


# ---------------------------------------------------------------------------------------------
# Spiral neural ODE (SPEC "Spiral neural ODE")

SPIRAL_A = np.array([[-0.1, 2.0], [-2.0, -0.1]])
SPIRAL_WINDOWS, SPIRAL_POINTS, SPIRAL_TOL, SPIRAL_LR = 20, 10, 1e-4, 1e-3


def spiral_data():
    """1000 points of dy/dt = (y³)A (row vector y), y0 = (2, 0), on [0, 25] (SciPy DOP853, 1e-12)."""
    from scipy.integrate import solve_ivp
    t = np.linspace(0.0, 25.0, 1000)
    sol = solve_ivp(lambda _, y: (y ** 3) @ SPIRAL_A, (0.0, 25.0), [2.0, 0.0], t_eval=t, method="DOP853",
                    rtol=1e-12, atol=1e-12)
    assert sol.success
    return t, sol.y.T.copy()


def spiral_batches(iterations: int, seed: int = 0) -> np.ndarray:
    """The window start indices of every iteration (iterations × 20), the same for every peer."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 1000 - SPIRAL_POINTS + 1, size=(iterations, SPIRAL_WINDOWS))


def spiral_window_times(t: np.ndarray) -> np.ndarray:
    """The field is autonomous and the grid uniform, so every window integrates over the same
    relative times 0, Δt, …, 9Δt from its first point."""
    return t[:SPIRAL_POINTS] - t[0]


def spiral_init(hidden: int, seed: int = 0):
    """MLP 2→H→2 weights, uniform ±1/√fan_in (PyTorch's Linear default), float64."""
    rng = np.random.default_rng(seed + hidden)
    a, c = 1 / math.sqrt(2), 1 / math.sqrt(hidden)
    return dict(w1=rng.uniform(-a, a, (hidden, 2)), b1=rng.uniform(-a, a, hidden),
                w2=rng.uniform(-c, c, (2, hidden)), b2=rng.uniform(-c, c, 2))


def spiral_iterations(quick: bool) -> int:
    return 3 if quick else 200
