"""PyTorch peer for the evidence network: forward, one ES iteration, BPTT and checkpointed BPTT.

The leapfrog of common.reference_simulate in eager PyTorch, float32 and float64; ES evaluates all
samples as one batch (batched matmul over samples); checkpointed BPTT wraps every `segment` steps in
torch.utils.checkpoint (reentrant). Also `--threads N`. `--compile` also times the forward with the step under torch.compile.
Prints one JSON line per measurement (Validation/bench/peers/README.md).

    python torch_network.py [--quick] [--precision f32,f64] [--workloads forward,es,bptt,checkpointed]
"""
import argparse
import time

import numpy as np
import torch
import torch.utils.checkpoint

import common
from common import C, GCA, GK, GL, KP, PHI, V1, V2, V3, V4, VCA, VK, VL, VT

DTYPES = {"f32": torch.float32, "f64": torch.float64}


def synapse(v):
    return torch.sigmoid((v - VT) / KP)


def gate_kinetics(v):
    return 0.5 * (1 + torch.tanh((v - V3) / V4)), 1 / (PHI * torch.cosh((v - V3) / (2 * V4)))


def make_step(dt):
    def step(v, x, v_last, slope, u, w_rec):
        w_inf, tau = gate_kinetics(v)
        x_new = (w_inf * dt + (tau - 0.5 * dt) * x) / (tau + 0.5 * dt)
        v_mid = v + slope * (v - v_last)
        current = common.I_BIAS + common.GAIN * (common.BIAS + u + torch.matmul(w_rec, synapse(v_mid)))
        m_inf = 0.5 * (1 + torch.tanh((v_mid - V1) / V2))
        g = GL + GCA * m_inf + GK * x_new
        e = current + GL * VL + GCA * m_inf * VCA + GK * x_new * VK
        v_new = (v * (C - 0.5 * dt * g) + dt * e) / (C + 0.5 * dt * g)
        return v_new, x_new
    return step


class Model:
    """θ = (W_in, W_rec, W_out, b_out); every function also takes θ with a leading sample axis."""

    def __init__(self, net: common.Network, steps: int, dt: float, dtype, step=None):
        self.steps, self.dt, self.dtype = steps, dt, dtype
        self.segs = common.segment_schedule(steps, dt, net.token_duration, net.tokens.shape[0]).tolist()
        self.weights = torch.tensor(common.readout_weights(steps, dt), dtype=dtype)
        self.vocabulary = torch.tensor(net.vocabulary, dtype=dtype)
        self.tokens = torch.tensor(net.tokens)
        self.v0 = torch.tensor(net.v0, dtype=dtype)
        self.w0 = torch.tensor(net.w0, dtype=dtype)
        self.labels = torch.tensor(net.labels)
        self.theta = {k: torch.tensor(getattr(net, k), dtype=dtype) for k in ("w_in", "w_rec", "w_out", "b_out")}
        self.step = step or make_step(dt)

    def _start(self, theta):
        projected = torch.matmul(theta["w_in"], self.vocabulary.T)            # (S,) N × K
        u = projected[..., self.tokens]                                       # (S,) N × L × B
        u = u.movedim(-2, 0)                                                  # L × (S,) N × B
        v = self.v0.expand(theta["w_rec"].shape[:-2] + self.v0.shape)
        w_inf, tau = gate_kinetics(v)
        x = self.w0 + self.dt / (2 * tau) * (self.w0 - w_inf)
        return u, v, x

    def _run(self, theta, first, last, v, x, v_last, u, q):
        for k in range(first, last):
            v_new, x = self.step(v, x, v_last, 0.5 if k > 0 else 0.0, u[self.segs[k]], theta["w_rec"])
            v_last, v = v, v_new
            if q is not None:
                q = q + self.weights[k + 1] * synapse(v)
        return v, x, v_last, q

    def forward(self, theta):
        u, v, x = self._start(theta)
        v, x, _, _ = self._run(theta, 0, self.steps, v, x, v, u, None)
        w_inf, tau = gate_kinetics(v)
        x_next = (w_inf * self.dt + (tau - 0.5 * self.dt) * x) / (tau + 0.5 * self.dt)
        return v, 0.5 * (x + x_next)

    def loss(self, theta, segment=None):
        """Cross-entropy of the readout averaged over the last 10 ms (one value per sample)."""
        u, v, x = self._start(theta)
        q = self.weights[0] * synapse(v)
        v_last = v
        if segment is None:
            v, x, v_last, q = self._run(theta, 0, self.steps, v, x, v_last, u, q)
        else:
            # Reentrant checkpointing runs each segment's forward without a graph. The non-reentrant
            # variant kept as much memory as plain BPTT here (measured: 2000 steps, 16 × 8 network,
            # 125 MB against 139 MB; reentrant 8 MB), its per-op graph nodes outweighing the states.
            for first in range(0, self.steps, segment):
                last = min(self.steps, first + segment)
                v, x, v_last, q = torch.utils.checkpoint.checkpoint(
                    lambda w_rec, u, v, x, v_last, q, first=first, last=last:
                        self._run({"w_rec": w_rec}, first, last, v, x, v_last, u, q),
                    theta["w_rec"], u, v, x, v_last, q, use_reentrant=True)
        y = torch.matmul(theta["w_out"], q) + theta["b_out"][..., None]      # (S,) C × B
        lse = torch.logsumexp(y, dim=-2)
        picked = y[..., self.labels, torch.arange(y.shape[-1])]
        return (lse - picked).mean(dim=-1)


def check_forward():
    net, v_ref, w_ref = common.check_network()
    errors = {}
    for name, dtype in DTYPES.items():
        model = Model(net, common.CHECK["steps"], common.CHECK["dt"], dtype)
        with torch.no_grad():
            v, w = model.forward(model.theta)
        errors[name] = common.assert_close(f"torch {name}", v.numpy(), v_ref, 1e-9 if name == "f64" else 2e-2)
        common.assert_close(f"torch {name} gates", w.numpy(), w_ref, 1e-9 if name == "f64" else 1e-3)
    model = Model(net, common.CHECK["steps"], common.CHECK["dt"], torch.float64)
    loss = model.loss(model.theta)
    reference = common.reference_loss(net, common.CHECK["steps"])
    if not abs(float(loss) - reference) <= 1e-10:
        raise SystemExit(f"torch loss {float(loss)} differs from the reference {reference}")
    # Checkpointed BPTT recomputes the segments: its gradient must be the plain one.
    grads = []
    for segment in (None, 100):
        theta = requiring_grad(model.theta)
        model.loss(theta, segment=segment).backward()
        grads.append({k: a.grad for k, a in theta.items()})
    for k in grads[0]:
        if not torch.allclose(grads[0][k], grads[1][k], rtol=1e-12, atol=1e-15):
            raise SystemExit(f"torch checkpointed gradient of {k} differs from plain BPTT's")
    common.log(f"torch forward check: max |ΔV| f64 {errors['f64']:.1e} mV, f32 {errors['f32']:.1e} mV; loss and checkpointed gradient match")
    return errors


def requiring_grad(theta):
    return {k: a.clone().requires_grad_(True) for k, a in theta.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only check that everything runs")
    parser.add_argument("--precision", default="f32,f64")
    parser.add_argument("--workloads", default="forward,es,bptt,checkpointed")
    parser.add_argument("--compile", action="store_true", help="also time the forward with torch.compile(step)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    check = check_forward()
    base = dict(tool="pytorch", version=torch.__version__, machine=common.machine(),
                threads=torch.get_num_threads(), check_max_abs_dv_f64=check["f64"])
    # A first pass at toy sizes, its lines discarded, so that PyTorch's one-time costs (lazy
    # imports, thread-pool start, kernel selection) stay out of the measurements.
    toy = dict(common.sizes(True), neurons=4, batch=2, steps=20, samples=2, bptt_steps=20, checkpoint_steps=20,
               segment=10, repeats=1)
    measure(args, toy, base, emit=lambda record: None)
    measure(args, common.sizes(args.quick), base, emit=common.emit)


def measure(args, s, base, emit):
    workloads = args.workloads.split(",")
    n, b = s["neurons"], s["batch"]
    for precision in args.precision.split(","):
        dtype = DTYPES[precision]
        steps = s["steps"]
        net = common.simulate_network(s)

        if "forward" in workloads:
            variants = [("eager", Model(net, steps, 0.1, dtype))]
            if args.compile:
                variants.append(("compile-step", Model(net, steps, 0.1, dtype, step=torch.compile(make_step(0.1)))))
            for variant, m in variants:
                try:
                    with torch.no_grad():
                        start = time.perf_counter()
                        m.forward(m.theta)
                        warm = time.perf_counter() - start
                        seconds, runs, (v, _) = common.median_time(lambda: m.forward(m.theta), s["repeats"])
                except Exception as error:  # torch.compile needs a working toolchain; report, don't hide
                    emit(dict(base, workload="network-forward", precision=precision, status="failed",
                              error=str(error).splitlines()[0][:300], settings=dict(variant=variant)))
                    continue
                emit(dict(base, workload="network-forward", precision=precision, seconds=seconds,
                          neuronStepsPerSecond=n * b * steps / seconds, firstRunSeconds=warm, runs=runs,
                          finalMeanV=float(v.mean()),
                          settings=dict(neurons=n, batch=b, steps=steps, dt=0.1, variant=variant)))

        if "es" in workloads:
            model = Model(common.gradient_network(s, steps), steps, 0.1, dtype)
            samples, sigma, half = s["samples"], 0.1, s["samples"] // 2
            generator = torch.Generator().manual_seed(0)

            def es_iteration():
                with torch.no_grad():
                    eps = {k: torch.randn((half,) + a.shape, generator=generator, dtype=dtype)
                           for k, a in model.theta.items()}
                    stacked = {k: torch.cat([a[None], a + sigma * eps[k], a - sigma * eps[k]])
                               for k, a in model.theta.items()}
                    losses = model.loss(stacked)
                    diff = losses[1:half + 1] - losses[half + 1:]
                    grad = {k: torch.tensordot(diff, e, dims=1) / (sigma * samples) for k, e in eps.items()}
                    return losses[0], grad

            runs = []
            for _ in range(1 if s["samples"] >= 50 else 2):
                run_s, (center, g), peak, added = common.measure_peak(es_iteration)
                runs.append(run_s)
            seconds = float(np.median(runs))
            norm = float(torch.sqrt(sum((a.double() ** 2).sum() for a in g.values())))
            emit(dict(base, workload="es-iteration", precision=precision, seconds=seconds,
                      secondsPerIteration=seconds, runs=runs, peakBytes=peak, addedBytes=added,
                      loss=float(center), gradientNorm=norm,
                      neuronStepsPerSecond=n * b * steps * (samples + 1) / seconds,
                      settings=dict(neurons=n, batch=b, steps=steps, samples=samples, sigma=sigma,
                                    variant="samples-batched")))

        for workload, key, segment in (("bptt", "bptt_steps", None), ("bptt-checkpointed", "checkpoint_steps", s["segment"])):
            if (workload == "bptt" and "bptt" not in workloads) or (workload != "bptt" and "checkpointed" not in workloads):
                continue
            steps_g = s[key]
            model_g = Model(common.gradient_network(s, steps_g), steps_g, 0.1, dtype)

            def gradient():
                theta = requiring_grad(model_g.theta)
                value = model_g.loss(theta, segment=segment)
                value.backward()
                return value.detach(), {k: a.grad for k, a in theta.items()}

            seconds, (value, g), peak, added = common.measure_peak(gradient)
            norm = float(torch.sqrt(sum((a.double() ** 2).sum() for a in g.values())))
            emit(dict(base, workload=workload, precision=precision, seconds=seconds, peakBytes=peak,
                      addedBytes=added, loss=float(value), gradientNorm=norm,
                      settings=dict(neurons=n, batch=b, steps=steps_g,
                                    variant="autograd" if segment is None else f"checkpoint-every-{segment}")))


if __name__ == "__main__":
    main()
