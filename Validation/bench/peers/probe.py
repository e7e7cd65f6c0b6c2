"""The machine's limits, for the report's "fraction of the machine" column.

* CPU model, logical cores, SIMD flags (/proc/cpuinfo);
* GEMM throughput: NumPy (OpenBLAS) matmul of two n × n matrices, float64 and float32, on one
  thread and on all cores (`OPENBLAS_NUM_THREADS` set per subprocess);
* exponential throughput of one core: probe_exp.c built with -O3 -march=native -ffast-math
  (glibc's vector exp), and NumPy's np.exp for comparison.

Prints one JSON line with tool "machine".

    python probe.py [--quick]
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

import common


def gemm_rates(n, repeats):
    rates = {}
    for name, dtype in (("F64", np.float64), ("F32", np.float32)):
        a = np.random.default_rng(0).standard_normal((n, n)).astype(dtype)
        b = np.random.default_rng(1).standard_normal((n, n)).astype(dtype)
        a @ b
        best = min(_timed(lambda: a @ b) for _ in range(repeats))
        rates["gemmFlopsPerSecond" + name] = 2.0 * n ** 3 / best
    return rates


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--gemm-only", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n, repeats = (256, 2) if args.quick else (1024, 5)
    if args.gemm_only:
        print(json.dumps(gemm_rates(n, repeats)))
        return
    record = dict(tool="machine", workload="probe", **common.machine())
    flags = set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    record["gemmSize"] = n
    record["simd"] = [f for f in ("sse2", "avx", "avx2", "fma", "avx512f") if f in flags]
    for label, threads in (("1Thread", "1"), ("AllCores", str(os.cpu_count()))):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads)
        out = subprocess.run([sys.executable, __file__, "--gemm-only", "1"] + (["--quick"] if args.quick else []),
                             env=env, check=True, capture_output=True, text=True).stdout
        for key, value in json.loads(out).items():
            record[key + label] = value
    binary = pathlib.Path(tempfile.gettempdir()) / "neuroode_peers_probe_exp"
    subprocess.run(["cc", "-O3", "-march=native", "-ffast-math", "-o", str(binary),
                    str(common.HERE / "probe_exp.c"), "-lm"], check=True)
    out = subprocess.run([str(binary), "200" if args.quick else "4000"], check=True, capture_output=True, text=True).stdout
    for key, value in json.loads(out).items():
        if key != "checksum":
            record[key + "1Thread"] = value
    x = np.linspace(-5, 5, 1 << 16)
    for name, dtype in (("F64", np.float64), ("F32", np.float32)):
        xs = x.astype(dtype)
        best = min(_timed(lambda: np.exp(xs)) for _ in range(20 if not args.quick else 3))
        record["numpyExpPerSecond" + name] = xs.size / best
    record["numpy"] = np.__version__
    record["openblasEnvironment"] = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    common.emit(record)


if __name__ == "__main__":
    main()
