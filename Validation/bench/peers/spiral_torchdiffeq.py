"""torchdiffeq peer for the spiral neural ODE: one training iteration (forward solve of 20 windows
as one batched state, backpropagation through dopri5's operations, Adam step), H = 50 and 1000.

dy/dt = MLP(y³), 2→H→2 tanh; `odeint(method="dopri5", rtol=atol=1e-4)` (shared step control over
the batch, as torchdiffeq integrates one tensor), MAE loss, torch.optim.Adam(lr=1e-3).

    python spiral_torchdiffeq.py [--quick] [--hidden 50,1000] [--precision f32,f64]
"""
import argparse
import time

import numpy as np
import torch
import torchdiffeq

import common

DTYPES = {"f32": torch.float32, "f64": torch.float64}


class Field(torch.nn.Module):
    def __init__(self, hidden, dtype):
        super().__init__()
        w = common.spiral_init(hidden)
        self.w1 = torch.nn.Parameter(torch.tensor(w["w1"], dtype=dtype))
        self.b1 = torch.nn.Parameter(torch.tensor(w["b1"], dtype=dtype))
        self.w2 = torch.nn.Parameter(torch.tensor(w["w2"], dtype=dtype))
        self.b2 = torch.nn.Parameter(torch.tensor(w["b2"], dtype=dtype))

    def forward(self, t, y):
        return torch.tanh((y ** 3) @ self.w1.T + self.b1) @ self.w2.T + self.b2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--hidden", default="50,1000")
    parser.add_argument("--precision", default=None, help="default f32,f64 (f32 with --quick)")
    parser.add_argument("--iterations", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: PyTorch's own)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    iterations = args.iterations or common.spiral_iterations(args.quick)
    precisions = (args.precision or ("f32" if args.quick else "f32,f64")).split(",")
    t, data = common.spiral_data()
    batches = common.spiral_batches(iterations + 1)
    windows = np.arange(common.SPIRAL_POINTS)
    for precision in precisions:
        dtype = DTYPES[precision]
        ts = torch.tensor(common.spiral_window_times(t), dtype=dtype)
        y0s = [torch.tensor(data[s], dtype=dtype) for s in batches]
        truths = [torch.tensor(data[s[:, None] + windows], dtype=dtype).transpose(0, 1) for s in batches]
        for hidden in (int(h) for h in args.hidden.split(",")):
            model = Field(hidden, dtype)
            optimizer = torch.optim.Adam(model.parameters(), lr=common.SPIRAL_LR)

            def iteration(i):
                optimizer.zero_grad()
                ys = torchdiffeq.odeint(model, y0s[i], ts, method="dopri5",
                                        rtol=common.SPIRAL_TOL, atol=common.SPIRAL_TOL)   # points × windows × 2
                loss = (ys - truths[i]).abs().mean()
                loss.backward()
                optimizer.step()
                return loss.item()

            start = time.perf_counter()
            first_loss = iteration(0)
            first_s = time.perf_counter() - start
            times = []
            for i in range(1, iterations + 1):
                start = time.perf_counter()
                value = iteration(i)
                times.append(time.perf_counter() - start)
            mean_ms = 1e3 * float(np.mean(times))
            common.emit(dict(
                tool="torchdiffeq", version=getattr(torchdiffeq, "__version__", "?"), torch=torch.__version__,
                machine=common.machine(), threads=torch.get_num_threads(),
                workload=f"spiral-H{hidden}", precision=precision, milliseconds=mean_ms,
                millisecondsPerIteration=mean_ms, medianMilliseconds=1e3 * float(np.median(times)),
                firstIterationSeconds=first_s, iterations=iterations,
                totalSecondsFor2000=first_s + 2000 * mean_ms / 1e3, firstLoss=first_loss, lastLoss=value,
                settings=dict(hidden=hidden, solver="dopri5", rtol=common.SPIRAL_TOL, atol=common.SPIRAL_TOL,
                              windows=common.SPIRAL_WINDOWS, points=common.SPIRAL_POINTS,
                              adjoint="backprop through solver", variant="batched-state")))


if __name__ == "__main__":
    main()
