"""Reference evaluation counts of CMA-ES on the standard test functions, from pycma (Hansen's
implementation, `pip install cma`), for the pass bars of Tests/GradientsTests/CMAESTests.swift.

Classic CMA-ES as NeuroODE implements it (README "CMA-ES"): positive log-rank weights only
(CMA_active=False), default lambda = 4 + floor(3 ln n); separable variant: CMA_diagonal=True.
Target f < 1e-10, 20 seeds each, n = 10, sigma0 = 0.5.
Measured with cma 4.5.0:
  sphere     x0 = 1:  20/20, evaluations median 1640, min 1430, max 1750
  ellipsoid  x0 = 1:  20/20, median 5880, min 5390, max 6480   (f = sum 10^(6 (i-1)/(n-1)) x_i^2)
  rosenbrock x0 = 0:  19/20, median 6200, min 5300, max 7070
  sep-CMA ellipsoid:  20/20, median 3215, min 2970, max 3390
  sep-CMA sphere, n = 100, x0 = 1 (10 seeds): 12053-12886 evaluations (the last case below)
"""
import warnings

import cma
import numpy as np

warnings.filterwarnings("ignore")
n = 10


def sphere(x):
    return float(np.sum(np.asarray(x) ** 2))


def ellipsoid(x):
    x = np.asarray(x)
    return float(np.sum(10 ** (6 * np.arange(n) / (n - 1)) * x**2))


def rosenbrock(x):
    x = np.asarray(x)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


cases = [
    ("sphere", sphere, [1.0] * n, False),
    ("ellipsoid", ellipsoid, [1.0] * n, False),
    ("rosenbrock", rosenbrock, [0.0] * n, False),
    ("sep-CMA ellipsoid", ellipsoid, [1.0] * n, True),
]
for name, f, x0, diagonal in cases:
    evaluations, successes = [], 0
    for seed in range(1, 21):
        es = cma.CMAEvolutionStrategy(x0, 0.5, {
            "seed": seed, "ftarget": 1e-10, "maxfevals": 40000, "CMA_active": False, "verbose": -9,
            "tolfun": 0, "tolx": 0, "tolfunhist": 0, "tolstagnation": 100000, "CMA_diagonal": diagonal})
        es.optimize(f)
        if es.result.fbest < 1e-10:
            successes += 1
            evaluations.append(es.result.evaluations)
    print(f"{name}: {successes}/20, evaluations median {np.median(evaluations):.0f}, "
          f"min {min(evaluations)}, max {max(evaluations)}")
