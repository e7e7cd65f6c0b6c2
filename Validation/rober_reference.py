"""Reference solutions for the ROBER tests (Tests/NeuroODETests/CVODERoberTests.swift).

Writes two files into Tests/NeuroODETests/References/:

* rober_reference.json: ROBER (SPEC: k1 = 0.04, k2 = 3e7, k3 = 1e4, y0 = (1, 0, 0)) at
  t = 0.4 * 10^k, k = 0..11, solved by SciPy's Radau IIA (order 5) at rtol 1e-12 with
  absolute tolerances scaled to each species, and checked against an independent LSODA solve
  at the same tolerances. The recorded `agreement` is the largest relative difference between
  the two, an estimate of the reference's own error.
* cvroberts_dns.json: the numbers SUNDIALS prints in its own example output
  examples/cvode/serial/cvRoberts_dns.out (CVODE BDF, rtol 1e-4, atol (1e-8, 1e-14, 1e-6),
  analytic Jacobian), parsed from the file shipped with libsundials-dev 6.4.1.

Run: python3 Validation/rober_reference.py
"""
import json
import pathlib
import re

import numpy as np
import scipy
from scipy.integrate import solve_ivp

K1, K2, K3 = 0.04, 3e7, 1e4
TIMES = [0.4 * 10.0**k for k in range(12)]
RTOL = 1e-12
# y2 peaks near 3.7e-5 and falls to ~3e-13 by t = 4e10: its absolute tolerance must sit far
# below that so that the relative tolerance governs every reported digit.
ATOL = [1e-22, 1e-26, 1e-22]

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests" / "NeuroODETests" / "References"
SUNDIALS_OUT = pathlib.Path("/usr/share/doc/libsundials-dev/examples/cvode/serial/cvRoberts_dns.out")


def rhs(t, y):
    y1, y2, y3 = y
    return [-K1 * y1 + K3 * y2 * y3, K1 * y1 - K2 * y2 * y2 - K3 * y2 * y3, K2 * y2 * y2]


def jac(t, y):
    _, y2, y3 = y
    return [[-K1, K3 * y3, K3 * y2],
            [K1, -2 * K2 * y2 - K3 * y3, -K3 * y2],
            [0.0, 2 * K2 * y2, 0.0]]


def solve(method):
    sol = solve_ivp(rhs, (0.0, TIMES[-1]), [1.0, 0.0, 0.0], method=method, t_eval=TIMES,
                    rtol=RTOL, atol=ATOL, jac=jac)
    assert sol.success, sol.message
    return sol.y.T


def reference():
    radau = solve("Radau")
    lsoda = solve("LSODA")
    agreement = float(np.max(np.abs(radau - lsoda) / np.abs(radau)))
    return {
        "source": "Validation/rober_reference.py: SciPy %s solve_ivp Radau, rtol %g, atol %s, analytic Jacobian"
                  % (scipy.__version__, RTOL, ATOL),
        "agreement": agreement,
        "agreementNote": "max relative difference between the Radau and LSODA solves at the same tolerances",
        "parameters": [K1, K2, K3],
        "times": TIMES,
        "states": radau.tolist(),
    }


def sundials_example():
    text = SUNDIALS_OUT.read_text()
    pattern = re.compile(r"At t = (\S+)\s+y =\s+(\S+)\s+(\S+)\s+(\S+)\s*\n(?!\s+rootsfound)")
    rows = [(float(m.group(1)), [float(m.group(i)) for i in (2, 3, 4)]) for m in pattern.finditer(text)]
    # Keep the twelve output times 0.4·10^k; the example also prints its two root returns.
    rows = [(t, y) for t, y in rows if any(abs(t - r) <= 1e-9 * r for r in TIMES)]
    assert len(rows) == 12, rows
    def statistic(label):
        return int(re.search(r"^%s\s+=\s+(\d+)$" % re.escape(label), text, re.M).group(1))
    return {
        "source": "SUNDIALS 6.4.1 example output %s (CVODE BDF with root finding, CV_NORMAL mode, "
                  "printed to 7 significant digits), parsed by Validation/rober_reference.py" % SUNDIALS_OUT,
        "relativeTolerance": 1e-4,
        "absoluteTolerances": [1e-8, 1e-14, 1e-6],
        "printedSignificantDigits": 7,
        "statistics": {
            "steps": statistic("Steps"),
            "rejectedSteps": statistic("Error test fails"),
            "rightHandSideEvaluations": statistic("RHS fn evals"),
            "jacobianEvaluations": statistic("Jac fn evals"),
            "nonlinearIterations": statistic("NLS iters"),
            "convergenceFailures": statistic("NLS fails"),
            "linearSolverSetups": statistic("LS setups"),
            # The example also root-finds on y1 = 1e-4 and y3 = 0.01 (the test's solve does not).
            "eventFunctionEvaluations": statistic("Root fn evals"),
            "events": text.count("rootsfound[]"),
        },
        "times": [t for t, _ in rows],
        "states": [y for _, y in rows],
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    ref = reference()
    (OUT / "rober_reference.json").write_text(json.dumps(ref, indent=1) + "\n")
    print("Radau vs LSODA max relative difference:", ref["agreement"])
    if SUNDIALS_OUT.exists():
        (OUT / "cvroberts_dns.json").write_text(json.dumps(sundials_example(), indent=1) + "\n")
    else:
        print("SUNDIALS example output not found; cvroberts_dns.json left as it is")


if __name__ == "__main__":
    main()
