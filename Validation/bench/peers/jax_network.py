"""JAX peer for the evidence network: forward, one ES iteration, BPTT and rematerialised BPTT.

The leapfrog of common.reference_simulate as a `lax.scan` under `jit`, in float32 and float64.
Prints one JSON line per measurement (Validation/bench/peers/README.md).

    python jax_network.py [--quick] [--precision f32,f64] [--workloads forward,es,bptt,checkpointed]
"""
import argparse
import time

import jax

jax.config.update("jax_enable_x64", True)  # float64 available; every array's dtype is explicit
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import common  # noqa: E402
from common import C, GCA, GK, GL, KP, PHI, V1, V2, V3, V4, VCA, VK, VL, VT  # noqa: E402

DTYPES = {"f32": jnp.float32, "f64": jnp.float64}


def synapse(v):
    return 1 / (1 + jnp.exp(-(v - VT) / KP))


def gate_kinetics(v):
    return 0.5 * (1 + jnp.tanh((v - V3) / V4)), 1 / (PHI * jnp.cosh((v - V3) / (2 * V4)))


class Model:
    """The network's leapfrog as pure functions of θ = (W_in, W_rec, W_out, b_out)."""

    def __init__(self, net: common.Network, steps: int, dt: float, dtype):
        self.dtype, self.steps, self.dt = dtype, steps, dt
        segs = common.segment_schedule(steps, dt, net.token_duration, net.tokens.shape[0])
        slopes = np.full(steps, 0.5)
        slopes[0] = 0.0   # the first step has no history: instantaneous terms use V_0
        weights = common.readout_weights(steps, dt)
        self.xs = (jnp.asarray(segs), jnp.asarray(slopes, dtype), jnp.asarray(weights[1:], dtype))
        self.c0 = jnp.asarray(weights[0], dtype)
        self.vocabulary = jnp.asarray(net.vocabulary, dtype)
        self.tokens = jnp.asarray(net.tokens)
        self.v0 = jnp.asarray(net.v0, dtype)
        self.w0 = jnp.asarray(net.w0, dtype)
        self.labels = jnp.asarray(net.labels)
        self.theta = {k: jnp.asarray(getattr(net, k), dtype) for k in ("w_in", "w_rec", "w_out", "b_out")}

    def _step(self, theta, u):
        dt, w_rec = self.dt, theta["w_rec"]

        def step(carry, xs):
            v, x, v_last, q = carry
            seg, slope, c = xs
            w_inf, tau = gate_kinetics(v)
            x_new = (w_inf * dt + (tau - 0.5 * dt) * x) / (tau + 0.5 * dt)
            v_mid = v + slope * (v - v_last)
            current = common.I_BIAS + common.GAIN * (common.BIAS + u[seg] + w_rec @ synapse(v_mid))
            m_inf = 0.5 * (1 + jnp.tanh((v_mid - V1) / V2))
            g = GL + GCA * m_inf + GK * x_new
            e = current + GL * VL + GCA * m_inf * VCA + GK * x_new * VK
            v_new = (v * (C - 0.5 * dt * g) + dt * e) / (C + 0.5 * dt * g)
            if q is not None:
                q = q + c * synapse(v_new)
            return (v_new, x_new, v, q), None

        return step

    def _initial(self, theta, readout):
        u = jnp.transpose((theta["w_in"] @ self.vocabulary.T)[:, self.tokens], (1, 0, 2))
        w_inf, tau = gate_kinetics(self.v0)
        x = self.w0 + self.dt / (2 * tau) * (self.w0 - w_inf)
        q = self.c0 * synapse(self.v0) if readout else None
        return u, (self.v0, x, self.v0, q)

    def forward(self, theta):
        """(V_T, w̄_T): the final voltages and full-step gates."""
        u, carry = self._initial(theta, readout=False)
        (v, x, _, _), _ = jax.lax.scan(self._step(theta, u), carry, self.xs)
        w_inf, tau = gate_kinetics(v)
        x_next = (w_inf * self.dt + (tau - 0.5 * self.dt) * x) / (tau + 0.5 * self.dt)
        return v, 0.5 * (x + x_next)

    def loss(self, theta, remat=None, segment=100):
        """Cross-entropy of the readout averaged over the last 10 ms; `remat` = None, "step"
        (jax.checkpoint around every step) or "segment" (around every `segment` steps)."""
        u, carry = self._initial(theta, readout=True)
        step = self._step(theta, u)
        if remat == "step":
            (_, _, _, q), _ = jax.lax.scan(jax.checkpoint(step), carry, self.xs)
        elif remat == "segment":
            if self.steps % segment:
                raise ValueError(f"--remat segment needs steps ({self.steps}) divisible by the segment ({segment})")
            blocks = self.steps // segment
            xs = jax.tree_util.tree_map(lambda a: a.reshape((blocks, segment) + a.shape[1:]), self.xs)

            @jax.checkpoint
            def block(carry, xs_block):
                return jax.lax.scan(step, carry, xs_block)[0], None

            (_, _, _, q), _ = jax.lax.scan(block, carry, xs)
        else:
            (_, _, _, q), _ = jax.lax.scan(step, carry, self.xs)
        y = theta["w_out"] @ q + theta["b_out"][:, None]
        lse = jax.nn.logsumexp(y, axis=0)
        return jnp.mean(lse - y[self.labels, jnp.arange(y.shape[1])])


def block(tree):
    return jax.tree_util.tree_map(lambda a: a.block_until_ready(), tree)


def check_forward():
    """The JAX forward against the NumPy float64 reference (itself checked against NeuroODE), and
    the float64 gradient against central differences of the reference loss."""
    net, v_ref, w_ref = common.check_network()
    errors = {}
    for name, dtype in DTYPES.items():
        model = Model(net, common.CHECK["steps"], common.CHECK["dt"], dtype)
        v, w = jax.jit(model.forward)(model.theta)
        errors[name] = common.assert_close(f"jax {name}", v, v_ref, 1e-9 if name == "f64" else 2e-2)
        common.assert_close(f"jax {name} gates", w, w_ref, 1e-9 if name == "f64" else 1e-3)
    model = Model(net, common.CHECK["steps"], common.CHECK["dt"], jnp.float64)
    value, grad = jax.jit(jax.value_and_grad(model.loss))(model.theta)
    reference = common.reference_loss(net, common.CHECK["steps"])
    if not abs(float(value) - reference) <= 1e-10:
        raise SystemExit(f"jax loss {float(value)} differs from the reference {reference}")
    # Segment-wise rematerialisation reshapes the step inputs: its gradient must be the plain one.
    remat = jax.jit(jax.grad(lambda th: model.loss(th, remat="segment", segment=100)))(model.theta)
    for key in grad:
        if not np.allclose(remat[key], grad[key], rtol=1e-12, atol=1e-15):
            raise SystemExit(f"jax segment-rematerialised gradient of {key} differs from plain BPTT's")
    for key, index in (("w_rec", (0, 1)), ("w_in", (2, 7)), ("w_out", (1, 3))):
        h = 1e-5
        plus, minus = common.Network(**vars(net)), common.Network(**vars(net))
        for sign, copy in ((1, plus), (-1, minus)):
            array = getattr(net, key).copy()
            array[index] += sign * h
            setattr(copy, key, array)
        fd = (common.reference_loss(plus, common.CHECK["steps"]) - common.reference_loss(minus, common.CHECK["steps"])) / (2 * h)
        got = float(grad[key][index])
        if not abs(got - fd) <= 1e-6 * max(1.0, abs(fd)) + 1e-7:
            raise SystemExit(f"jax gradient check failed for {key}{index}: {got} vs finite difference {fd}")
    common.log(f"jax forward check: max |ΔV| f64 {errors['f64']:.1e} mV, f32 {errors['f32']:.1e} mV; loss, gradient and remat gradient match")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only check that everything runs")
    parser.add_argument("--precision", default="f32,f64")
    parser.add_argument("--workloads", default="forward,es,bptt,checkpointed")
    parser.add_argument("--es-mode", default="vmap,loop", help="vmap over samples, a loop of jitted runs, or both")
    parser.add_argument("--remat", default="step,segment", help="jax.checkpoint per step, per segment, or both")
    args = parser.parse_args()
    s = common.sizes(args.quick)
    workloads = args.workloads.split(",")
    check = check_forward()
    base = dict(tool="jax", version=jax.__version__, machine=common.machine(),
                backend=jax.default_backend(), check_max_abs_dv_f64=check["f64"])
    n, b = s["neurons"], s["batch"]

    es_modes, remats = args.es_mode.split(","), args.remat.split(",")
    for index, precision in enumerate(args.precision.split(",")):
        dtype = DTYPES[precision]
        if args.quick:  # each variant once across the precisions, to keep the check short
            es_modes_here = [es_modes[index % len(es_modes)]]
            remats_here = [remats[index % len(remats)]]
        else:
            es_modes_here, remats_here = es_modes, remats
        forward_steps = s["steps"]
        model = Model(common.simulate_network(s), forward_steps, 0.1, dtype)

        if "forward" in workloads:
            fn = jax.jit(model.forward)
            start = time.perf_counter()
            v, _ = block(fn(model.theta))
            compile_s = time.perf_counter() - start
            seconds, runs, (v, _) = common.median_time(lambda: block(fn(model.theta)), s["repeats"])
            common.emit(dict(base, workload="network-forward", precision=precision, seconds=seconds,
                             neuronStepsPerSecond=n * b * forward_steps / seconds, compileSeconds=compile_s,
                             runs=runs, finalMeanV=float(jnp.mean(v)),
                             settings=dict(neurons=n, batch=b, steps=forward_steps, dt=0.1, variant="jit+scan")))

        if "es" in workloads:
            model = Model(common.gradient_network(s, forward_steps), forward_steps, 0.1, dtype)
            samples, sigma = s["samples"], 0.1
            half = samples // 2
            loss = model.loss

            def perturbations(key):
                keys = jax.random.split(key, len(model.theta))
                return {k: jax.random.normal(kk, (half,) + a.shape, dtype)
                        for (k, a), kk in zip(sorted(model.theta.items()), keys)}

            def estimate(losses_plus, losses_minus, eps):
                diff = losses_plus - losses_minus
                return {k: jnp.tensordot(diff, e, axes=1) / (sigma * samples) for k, e in eps.items()}

            @jax.jit
            def es_vmap(theta, key):
                eps = perturbations(key)
                stacked = {k: jnp.concatenate([theta[k][None], theta[k] + sigma * eps[k], theta[k] - sigma * eps[k]])
                           for k in theta}
                losses = jax.vmap(loss)(stacked)
                return losses[0], estimate(losses[1:half + 1], losses[half + 1:], eps)

            loss_jit = jax.jit(loss)
            perturb_jit = jax.jit(perturbations)

            def es_loop(theta, key):
                eps = perturb_jit(key)
                center = loss_jit(theta)
                plus = jnp.stack([loss_jit({k: theta[k] + sigma * eps[k][i] for k in theta}) for i in range(half)])
                minus = jnp.stack([loss_jit({k: theta[k] - sigma * eps[k][i] for k in theta}) for i in range(half)])
                return center, estimate(plus, minus, eps)

            for mode in es_modes_here:
                fn = es_vmap if mode == "vmap" else es_loop
                key = jax.random.PRNGKey(0)
                start = time.perf_counter()
                block(fn(model.theta, key))
                compile_s = time.perf_counter() - start
                runs = []
                for _ in range(1 if samples >= 50 else 2):
                    run_s, (center, g), peak, added = common.measure_peak(
                        lambda: block(fn(model.theta, jax.random.PRNGKey(1))))
                    runs.append(run_s)
                seconds = float(np.median(runs))
                norm = float(jnp.sqrt(sum(jnp.sum(a.astype(jnp.float64) ** 2) for a in g.values())))
                common.emit(dict(base, workload="es-iteration", precision=precision, seconds=seconds,
                                 secondsPerIteration=seconds, compileSeconds=compile_s, runs=runs,
                                 peakBytes=peak, addedBytes=added,
                                 loss=float(center), gradientNorm=norm,
                                 neuronStepsPerSecond=n * b * forward_steps * (samples + 1) / seconds,
                                 settings=dict(neurons=n, batch=b, steps=forward_steps, samples=samples,
                                               sigma=sigma, variant=mode)))

        if "bptt" in workloads:
            steps = s["bptt_steps"]
            model_b = Model(common.gradient_network(s, steps), steps, 0.1, dtype)
            fn = jax.jit(jax.value_and_grad(model_b.loss))
            start = time.perf_counter()
            block(fn(model_b.theta))
            compile_s = time.perf_counter() - start
            runs = []
            for _ in range(1 if args.quick else 3):
                seconds, (value, g), peak, added = common.measure_peak(lambda: block(fn(model_b.theta)))
                runs.append(seconds)
            norm = float(jnp.sqrt(sum(jnp.sum(a.astype(jnp.float64) ** 2) for a in g.values())))
            common.emit(dict(base, workload="bptt", precision=precision, seconds=float(np.median(runs)), runs=runs,
                             peakBytes=peak, addedBytes=added, compileSeconds=compile_s, loss=float(value),
                             gradientNorm=norm, settings=dict(neurons=n, batch=b, steps=steps, variant="jit+grad")))

        if "checkpointed" in workloads:
            steps = s["checkpoint_steps"]
            model_c = Model(common.gradient_network(s, steps), steps, 0.1, dtype)
            for remat in remats_here:
                fn = jax.jit(jax.value_and_grad(lambda th: model_c.loss(th, remat=remat, segment=s["segment"])))
                start = time.perf_counter()
                block(fn(model_c.theta))
                compile_s = time.perf_counter() - start
                runs = []
                for _ in range(1 if args.quick else 2):
                    seconds, (value, g), peak, added = common.measure_peak(lambda: block(fn(model_c.theta)))
                    runs.append(seconds)
                norm = float(jnp.sqrt(sum(jnp.sum(a.astype(jnp.float64) ** 2) for a in g.values())))
                common.emit(dict(base, workload="bptt-checkpointed", precision=precision, seconds=float(np.median(runs)),
                                 runs=runs, peakBytes=peak, addedBytes=added, compileSeconds=compile_s,
                                 loss=float(value), gradientNorm=norm,
                                 settings=dict(neurons=n, batch=b, steps=steps, variant=f"remat-{remat}",
                                               segment=s["segment"] if remat == "segment" else 1)))


if __name__ == "__main__":
    main()
