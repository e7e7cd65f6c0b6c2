"""Coefficients of VectorExp (Sources/NeuroODE/Models/MorrisLecarNetwork.swift).

e^r = 1 + r + r^2 q(r) on |r| <= ln2/2, q a degree-9 Chebyshev fit of (e^r - 1 - r)/r^2 in
40-digit arithmetic (mpmath). Prints the coefficients (highest degree first) and the worst relative
error of the double-precision Horner evaluation against mpmath on a dense grid.
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
half_width = mpmath.log(2) / 2 * mpmath.mpf("1.0001")


def tail(r):
    return (mpmath.exp(r) - 1 - r) / r**2 if r != 0 else mpmath.mpf(1) / 2


coefficients = [float(c) for c in mpmath.chebyfit(tail, [-half_width, half_width], 10)]
worst = 0.0
for r in np.linspace(-float(half_width), float(half_width), 4001):
    q = coefficients[0]
    for c in coefficients[1:]:
        q = q * r + c
    value = (q * r) * r + r + 1.0
    exact = mpmath.exp(mpmath.mpf(float(r)))
    worst = max(worst, abs(float((mpmath.mpf(value) - exact) / exact)))
print("coefficients (highest first):", [repr(c) for c in coefficients])
print("worst relative error of the double evaluation:", worst)
