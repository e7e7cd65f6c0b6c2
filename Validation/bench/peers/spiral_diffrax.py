"""diffrax peer for the spiral neural ODE: one training iteration (forward solve of 20 windows,
backpropagation through the solver, Adam step), H = 50 and H = 1000.

dy/dt = MLP(y³), 2→H→2 tanh; Tsit5 (or Dopri5) with a PID controller at rtol = atol = 1e-4,
RecursiveCheckpointAdjoint (diffrax's default: discretise-then-optimise through the solver), MAE
loss, optax Adam 1e-3. The whole iteration is one `jit`; its first call (trace + XLA compile) is
reported as compileSeconds. Windows are solved with `vmap` (per-window step control) or as one
batched state (one shared step control), `--batching`.

    python spiral_diffrax.py [--quick] [--hidden 50,1000] [--precision f32,f64] [--batching vmap,state]
                             [--solver tsit5|dopri5] [--iterations N]
"""
import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)
import diffrax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import common  # noqa: E402

DTYPES = {"f32": jnp.float32, "f64": jnp.float64}
SOLVERS = {"tsit5": diffrax.Tsit5, "dopri5": diffrax.Dopri5}


def field(t, y, p):
    hidden = jnp.tanh((y ** 3) @ p["w1"].T + p["b1"])
    return hidden @ p["w2"].T + p["b2"]


def make_step(ts, solver, batching, optimizer):
    controller = diffrax.PIDController(rtol=common.SPIRAL_TOL, atol=common.SPIRAL_TOL)

    def solve(p, y0):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(field), solver(), t0=ts[0], t1=ts[-1], dt0=None, y0=y0, args=p,
            saveat=diffrax.SaveAt(ts=ts), stepsize_controller=controller,
            adjoint=diffrax.RecursiveCheckpointAdjoint(), max_steps=4096)
        return sol.ys, sol.stats["num_steps"]

    def loss(p, y0, truth):
        if batching == "vmap":
            ys, steps = jax.vmap(solve, in_axes=(None, 0))(p, y0)              # windows × points × 2
        else:
            ys, steps = solve(p, y0)                                           # points × windows × 2
            ys = jnp.swapaxes(ys, 0, 1)
        return jnp.mean(jnp.abs(ys - truth)), jnp.sum(steps)

    @jax.jit
    def step(p, state, y0, truth):
        (value, steps), grad = jax.value_and_grad(loss, has_aux=True)(p, y0, truth)
        updates, state = optimizer.update(grad, state, p)
        return optax.apply_updates(p, updates), state, value, steps

    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--hidden", default=None, help="default 50,1000 (50 with --quick: each compile is seconds)")
    parser.add_argument("--precision", default=None, help="default f32,f64 (f32 with --quick)")
    parser.add_argument("--batching", default=None, help="default vmap,state (vmap with --quick); the report takes the faster")
    parser.add_argument("--solver", default="tsit5", choices=sorted(SOLVERS))
    parser.add_argument("--iterations", type=int, default=None)
    args = parser.parse_args()
    iterations = args.iterations or common.spiral_iterations(args.quick)
    precisions = (args.precision or ("f32" if args.quick else "f32,f64")).split(",")
    t, data = common.spiral_data()
    ts_np = common.spiral_window_times(t)
    batches = common.spiral_batches(iterations + 1)
    windows = np.arange(common.SPIRAL_POINTS)
    for precision in precisions:
        dtype = DTYPES[precision]
        ts = jnp.asarray(ts_np, dtype)
        y0s = [jnp.asarray(data[starts], dtype) for starts in batches]
        truths = [jnp.asarray(data[starts[:, None] + windows], dtype) for starts in batches]
        for hidden in (int(h) for h in (args.hidden or ("50" if args.quick else "50,1000")).split(",")):
            for batching in (args.batching or ("vmap" if args.quick else "vmap,state")).split(","):
                optimizer = optax.adam(common.SPIRAL_LR)
                p = {k: jnp.asarray(v, dtype) for k, v in common.spiral_init(hidden).items()}
                state = optimizer.init(p)
                step = make_step(ts, SOLVERS[args.solver], batching, optimizer)
                start = time.perf_counter()
                p, state, value, steps = step(p, state, y0s[0], truths[0])
                value.block_until_ready()
                compile_s = time.perf_counter() - start
                first_loss = float(value)
                times, total_steps = [], 0
                for i in range(1, iterations + 1):
                    start = time.perf_counter()
                    p, state, value, steps = step(p, state, y0s[i], truths[i])
                    value.block_until_ready()
                    times.append(time.perf_counter() - start)
                    total_steps += int(steps)
                mean_ms = 1e3 * float(np.mean(times))
                common.emit(dict(
                    tool="diffrax", version=diffrax.__version__, jax=jax.__version__, machine=common.machine(),
                    workload=f"spiral-H{hidden}", precision=precision, milliseconds=mean_ms,
                    millisecondsPerIteration=mean_ms, medianMilliseconds=1e3 * float(np.median(times)),
                    compileSeconds=compile_s, iterations=iterations,
                    totalSecondsFor2000=compile_s + 2000 * mean_ms / 1e3,
                    meanSolverStepsPerIteration=total_steps / iterations,
                    firstLoss=first_loss, lastLoss=float(value),
                    settings=dict(hidden=hidden, solver=args.solver, rtol=common.SPIRAL_TOL, atol=common.SPIRAL_TOL,
                                  windows=common.SPIRAL_WINDOWS, points=common.SPIRAL_POINTS,
                                  adjoint="RecursiveCheckpointAdjoint", variant=batching)))


if __name__ == "__main__":
    main()
