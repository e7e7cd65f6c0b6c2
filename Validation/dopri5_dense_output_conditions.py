"""Exact check of the Dormand-Prince 5(4) tableau and its 4th-order continuous extension.

DormandPrince.swift evaluates the dense output in Hairer's nested form
    y(t + th*h) = r1 + th*(r2 + (1-th)*(r3 + th*(r4 + (1-th)*r5)))
with r1 = y0, r2 = y1 - y0, r3 = h*k1 - r2, r4 = r2 - h*k7 - r3, r5 = h*sum_i d_i k_i.
Expanding it gives weights b_i(th) with y(t + th*h) = y0 + h*sum_i b_i(th) k_i. This script builds
those polynomials in exact rational arithmetic (sympy) and verifies
  * the tableau: row sums = c_i, the 5th-order conditions for b, the 4th-order ones for b-hat;
  * the continuous extension: all eight order conditions up to order 4 hold identically in th,
    b_i(1) = b_i (it interpolates y1), and b_i'(0), b_i'(1) reproduce f at both ends (C1 continuity);
  * that it is not of order 5 for th in (0, 1) (so the tests' order-4 bar is the right one).
Writes Tests/NeuroODETests/References/dopri5_dense_output.json with the weights at a few th, which
the Swift test compares against the interpolant's action on unit stage vectors.
Run: python3 Validation/dopri5_dense_output_conditions.py
"""

import json
import pathlib

import sympy as sp

R = sp.Rational
c = [0, R(1, 5), R(3, 10), R(4, 5), R(8, 9), 1, 1]
a = [
    [],
    [R(1, 5)],
    [R(3, 40), R(9, 40)],
    [R(44, 45), R(-56, 15), R(32, 9)],
    [R(19372, 6561), R(-25360, 2187), R(64448, 6561), R(-212, 729)],
    [R(9017, 3168), R(-355, 33), R(46732, 5247), R(49, 176), R(-5103, 18656)],
    [R(35, 384), 0, R(500, 1113), R(125, 192), R(-2187, 6784), R(11, 84)],
]
b = [R(35, 384), 0, R(500, 1113), R(125, 192), R(-2187, 6784), R(11, 84), 0]
bhat = [R(5179, 57600), 0, R(7571, 16695), R(393, 640), R(-92097, 339200), R(187, 2100), R(1, 40)]
d = [R(-12715105075, 11282082432), 0, R(87487479700, 32700410799), R(-10690763975, 1880347072),
     R(701980252875, 199316789632), R(-1453857185, 822651844), R(69997945, 29380423)]

A = sp.zeros(7, 7)
for i, row in enumerate(a):
    for j, v in enumerate(row):
        A[i, j] = v
C = sp.Matrix(c)
for i in range(7):
    assert sum(A[i, :]) == c[i], f"row sum {i}"


def conditions(w):
    """The order conditions of all 17 rooted trees up to order 5, as (sum_i w_i Phi_i, order, gamma)."""
    W = sp.Matrix(w).T
    Cd = sp.diag(*c)
    AC = A * C
    ACd = sp.diag(*AC)
    one = sp.ones(7, 1)
    trees = [
        (one, 1, 1),
        (C, 2, 2),
        (Cd * C, 3, 3), (AC, 3, 6),
        (Cd * Cd * C, 4, 4), (Cd * AC, 4, 8), (A * Cd * C, 4, 12), (A * AC, 4, 24),
        (Cd**3 * C, 5, 5), (Cd * Cd * AC, 5, 10), (Cd * A * Cd * C, 5, 15), (Cd * A * AC, 5, 30),
        (ACd * AC, 5, 20), (A * Cd**2 * C, 5, 20), (A * Cd * AC, 5, 40), (A * A * Cd * C, 5, 60),
        (A * A * AC, 5, 120),
    ]
    return [((W * phi)[0], order, gamma) for phi, order, gamma in trees]


for residual, order, gamma in conditions(b):
    assert sp.simplify(residual - R(1, gamma)) == 0, ("b", order, gamma)
for residual, order, gamma in conditions(bhat):
    if order <= 4:
        assert sp.simplify(residual - R(1, gamma)) == 0, ("bhat", order, gamma)

th = sp.symbols("theta")
# r-vectors as weights on (y0-part excluded) h*k_i: y1 - y0 = h*sum b_i k_i.
e = [sp.Matrix([1 if j == i else 0 for j in range(7)]) for i in range(7)]
r2 = sp.Matrix(b)
r3 = e[0] - r2
r4 = r2 - e[6] - r3
r5 = sp.Matrix(d)
btheta = (th * (r2 + (1 - th) * (r3 + th * (r4 + (1 - th) * r5)))).applyfunc(sp.expand)

for residual, order, gamma in conditions(list(btheta)):
    value = sp.expand(residual - th**order / gamma)
    if order <= 4:
        assert value == 0, ("continuous extension", order, gamma, value)
assert any(sp.expand(r - th**o / g) != 0 for r, o, g in conditions(list(btheta)) if o == 5)
assert [sp.simplify(x.subs(th, 1)) for x in btheta] == b
derivative = btheta.diff(th)
assert [derivative[i].subs(th, 0) for i in range(7)] == [1, 0, 0, 0, 0, 0, 0]
assert [derivative[i].subs(th, 1) for i in range(7)] == [0, 0, 0, 0, 0, 0, 1]

thetas = [R(1, 10), R(1, 3), R(1, 2), R(7, 10), R(19, 20)]
out = pathlib.Path(__file__).resolve().parent.parent / "Tests/NeuroODETests/References/dopri5_dense_output.json"
out.write_text(json.dumps({
    "description": "dopri5 continuous extension weights b_i(theta): y(t+theta h) = y0 + h sum_i b_i(theta) k_i",
    "theta": [float(t) for t in thetas],
    "weights": [[float(btheta[i].subs(th, t)) for i in range(7)] for t in thetas],
}, indent=1) + "\n")
print("tableau: order 5 (b) and 4 (b-hat) verified; continuous extension: order 4 for all theta, "
      f"interpolates y1, C1 at both ends; wrote {out}")
