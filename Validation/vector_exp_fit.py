"""Accuracy of VectorExp (Sources/NeuroODE/Models/MorrisLecarNetwork.swift) on its reduced range.

e^r for |r| <= ln2/2 is the [6/6] Pade approximant P(r)/P(-r), P(r) = sum_k c_k r^k with
c_k = (12-k)! 6! / (12! k! (6-k)!), evaluated as (E + rO)/(E - rO) with E, O polynomials in r^2,
exactly as the Swift code does. Prints the coefficients and the worst relative error of the double
evaluation against 40-digit mpmath on a dense grid (the test suite bounds the whole function,
range reduction included, against libm).
"""
from math import factorial

import mpmath
import numpy as np

mpmath.mp.dps = 40
c = [factorial(12 - k) * factorial(6) / (factorial(12) * factorial(k) * factorial(6 - k)) for k in range(7)]
half_width = float(mpmath.log(2) / 2) * 1.0001
worst = 0.0
for r in np.linspace(-half_width, half_width, 20001):
    r2 = r * r
    even = ((r2 * c[6] + c[4]) * r2 + c[2]) * r2 + c[0]
    odd = ((r2 * c[5] + c[3]) * r2 + c[1]) * r
    value = (even + odd) / (even - odd)
    exact = mpmath.exp(mpmath.mpf(float(r)))
    worst = max(worst, abs(float((mpmath.mpf(value) - exact) / exact)))
print("1/c_k:", [round(1 / x, 6) for x in c])
print("worst relative error of the double evaluation:", worst)
