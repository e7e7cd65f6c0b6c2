"""ROBER to t = 4e10 (BDF, rtol 1e-6, atol 1e-10) in SciPy, C CVODE and diffrax.

* scipy: `solve_ivp(method="BDF")` with the analytic Jacobian;
* cvode: Validation/bench/rober_cvode.c (CVODES BDF, dense Newton, analytic Jacobian, one-step
  mode) compiled with cc -O2 and run; its text output is parsed here;
* diffrax: Kvaerno5 (ESDIRK) with a PID controller at the same tolerances, float64, `jit`ed
  (compileSeconds reported separately).

Every solution's y(4e10) is checked against CVODE's: max |Δy|/(atol + rtol·|y|) ≤ 100.

    python rober.py [--quick] [--tools scipy,cvode,diffrax]
"""
import argparse
import pathlib
import re
import subprocess
import tempfile
import time

import numpy as np

import common

K1, K2, K3, T_END, RTOL, ATOL = 0.04, 3.0e7, 1.0e4, 4.0e10, 1e-6, 1e-10
SETTINGS = dict(method="BDF", rtol=RTOL, atol=ATOL, tEnd=T_END)


def rhs(_, y):
    dy1 = -K1 * y[0] + K3 * y[1] * y[2]
    dy3 = K2 * y[1] * y[1]
    return np.array([dy1, -(dy1 + dy3), dy3])


def jacobian(_, y):
    return np.array([[-K1, K3 * y[2], K3 * y[1]],
                     [K1, -2 * K2 * y[1] - K3 * y[2], -K3 * y[1]],
                     [0.0, 2 * K2 * y[1], 0.0]])


def run_cvode(repetitions):
    source = common.HERE.parent / "rober_cvode.c"
    binary = pathlib.Path(tempfile.gettempdir()) / "neuroode_peers_rober_cvode"
    subprocess.run(["cc", "-O2", "-o", str(binary), str(source), "-lsundials_cvodes", "-lsundials_nvecserial",
                    "-lsundials_sunmatrixdense", "-lsundials_sunlinsoldense", "-lm"], check=True)
    out = subprocess.run([str(binary), str(repetitions)], check=True, capture_output=True, text=True).stdout
    median = float(re.search(r"median ([0-9.]+) ms", out).group(1))
    minimum = float(re.search(r"min ([0-9.]+)", out).group(1))
    steps = int(re.search(r"steps (\d+)", out).group(1))
    y = [float(v) for v in re.search(r"y\(4e10\) = (\S+) (\S+) (\S+)", out).groups()]
    return median, minimum, steps, np.array(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tools", default="scipy,cvode,diffrax")
    args = parser.parse_args()
    tools = args.tools.split(",")
    machine = common.machine()
    # CVODE always runs: its y(4e10) is the reference the other solutions are checked against.
    median, minimum, steps, reference = run_cvode(5 if args.quick else 200)
    if "cvode" in tools:
        common.emit(dict(tool="c-cvode", workload="rober", precision="f64", milliseconds=median,
                         minMilliseconds=minimum, steps=steps, finalY=reference.tolist(), machine=machine,
                         settings=dict(SETTINGS, repetitions=5 if args.quick else 200, compiler="cc -O2")))

    def check(name, y):
        """max |y − y_CVODE| / (atol + rtol·|y_CVODE|): global errors of a few hundred local
        tolerances are expected after ~1000 steps; beyond 100 the solutions disagree."""
        err = float(np.max(np.abs(y - reference) / (ATOL + RTOL * np.abs(reference))))
        if not err <= 100:
            raise SystemExit(f"{name}: y(4e10) = {y} differs from CVODE's {reference} by {err:.2e} tolerances")
        return err

    if "scipy" in tools:
        import scipy
        from scipy.integrate import solve_ivp
        repeats = 2 if args.quick else 20
        seconds, runs, sol = common.median_time(
            lambda: solve_ivp(rhs, (0.0, T_END), [1.0, 0.0, 0.0], method="BDF", rtol=RTOL, atol=ATOL, jac=jacobian),
            repeats)
        assert sol.success, sol.message
        err = check("scipy", sol.y[:, -1])
        common.emit(dict(tool="scipy", version=scipy.__version__, workload="rober", precision="f64",
                         milliseconds=1e3 * seconds, steps=int(sol.t.size - 1), rhsEvaluations=int(sol.nfev),
                         finalY=sol.y[:, -1].tolist(), differenceToCVODEInTolerances=err, machine=machine,
                         settings=dict(SETTINGS, jacobian="analytic", repeats=repeats)))

    if "diffrax" in tools:
        import jax
        jax.config.update("jax_enable_x64", True)
        import diffrax
        import jax.numpy as jnp

        def field(t, y, args):
            dy1 = -K1 * y[0] + K3 * y[1] * y[2]
            dy3 = K2 * y[1] * y[1]
            return jnp.stack([dy1, -(dy1 + dy3), dy3])

        @jax.jit
        def solve(y0):
            sol = diffrax.diffeqsolve(
                diffrax.ODETerm(field), diffrax.Kvaerno5(), t0=0.0, t1=T_END, dt0=1e-6, y0=y0,
                stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL), max_steps=100_000)
            return sol.ys[-1], sol.stats["num_steps"]

        y0 = jnp.array([1.0, 0.0, 0.0])
        start = time.perf_counter()
        jax.block_until_ready(solve(y0))
        compile_s = time.perf_counter() - start
        repeats = 2 if args.quick else 20
        seconds, runs, (y, steps) = common.median_time(lambda: jax.block_until_ready(solve(y0)), repeats)
        err = check("diffrax", np.asarray(y))
        common.emit(dict(tool="diffrax", version=diffrax.__version__, workload="rober", precision="f64",
                         milliseconds=1e3 * seconds, compileSeconds=compile_s, steps=int(steps),
                         finalY=np.asarray(y).tolist(), differenceToCVODEInTolerances=err, machine=machine,
                         settings=dict(SETTINGS, method="Kvaerno5", repeats=repeats)))


if __name__ == "__main__":
    main()
