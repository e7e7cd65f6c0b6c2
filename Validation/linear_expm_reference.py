"""Reference solution of a 10x10 linear system y' = A y for the Dormand-Prince tests.

The exact solution is y(T) = expm(T A) y0, computed with SciPy's Pade-based matrix exponential,
an algorithm independent of any Runge-Kutta code. A is a seeded random matrix shifted so that its
spectrum lies in the left half plane with a spectral radius of a few units: large enough that the
truncation error of dopri5 on dt = 2^-4 ... 2^-8 stays well above roundoff, small enough that the
coarsest step is already in the asymptotic regime.

Writes Tests/NeuroODETests/References/linear_expm_reference.json with A (row-major), y0, T and y(T).
Run: python3 Validation/linear_expm_reference.py
"""

import json
import pathlib

import numpy as np
from scipy.linalg import expm

N = 10
T = 1.0
rng = np.random.default_rng(20241122)
A = 3.0 * rng.standard_normal((N, N)) / np.sqrt(N) - 2.5 * np.eye(N)
y0 = rng.uniform(-1.0, 1.0, N)
yT = expm(T * A) @ y0

# A second, independent route to the same number (eigendecomposition) guards the reference itself.
w, V = np.linalg.eig(A)
yT_eig = (V @ np.diag(np.exp(T * w)) @ np.linalg.solve(V, y0)).real
assert np.max(np.abs(yT - yT_eig)) < 1e-12, np.max(np.abs(yT - yT_eig))

out = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/linear_expm_reference.json"
out.write_text(json.dumps({
    "description": "y' = A y, y(T) = expm(T A) y0 (scipy.linalg.expm); A row-major",
    "dimension": N,
    "A": A.ravel().tolist(),
    "y0": y0.tolist(),
    "T": T,
    "yT": yT.tolist(),
    "spectralRadius": float(np.max(np.abs(w))),
    "maxRealEigenvalue": float(np.max(w.real)),
}, indent=1) + "\n")
print(f"wrote {out}; spectral radius {np.max(np.abs(w)):.3f}, max Re(lambda) {np.max(w.real):.3f}")
