#!/usr/bin/env bash
# The ES sweep of the long ROBER fit (REPRODUCTION "Claim 5"): `neuroode rober-fit --methods es
# --scaling on` for 2000 iterations at every σ × S × learning rate below (seed 0, AdamW wd 1e-6),
# one folder per setting under OUT, then sweep.csv with each setting's final and best loss. The
# best setting is then run for as long as BP (see rober_long.sh).
#
# Environment (optional): NEUROODE (binary; default .build/release/neuroode), OUT (default
# Validation/reproduction/rober-long/es-sweep), ITERATIONS (default 2000), THREADS (default 1).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
neuroode="${NEUROODE:-$root/.build/release/neuroode}"
out="${OUT:-$root/Validation/reproduction/rober-long/es-sweep}"
iterations="${ITERATIONS:-2000}"
threads="${THREADS:-1}"
mkdir -p "$out"
for samples in 20 100; do
  for sigma in 0.003 0.01 0.03; do
    for lr in 0.001 0.005 0.02; do
      dir="$out/S$samples-sigma$sigma-lr$lr"
      [[ -f "$dir/summary.json" ]] && continue
      "$neuroode" rober-fit --methods es --scaling on --iterations "$iterations" --samples "$samples" \
        --sigma "$sigma" --learning-rate "$lr" --threads "$threads" --out "$dir" >"$dir.stdout.txt" 2>/dev/null
    done
  done
done
python3 - "$out" <<'PY'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
rows = []
for summary in sorted(out.glob("*/summary.json")):
    run = json.loads(summary.read_text())["runs"][0]
    s = run["settings"]
    rows.append((s["samples"], s["sigma"], json.loads(summary.read_text())["optimizer"]["learningRate"],
                 run["finalLoss"], run["bestLoss"], run["wallSeconds"]))
rows.sort(key=lambda r: r[4])
with open(out / "sweep.csv", "w") as f:
    f.write("samples,sigma,learning_rate,final_loss,best_loss,wall_s\n")
    for r in rows:
        f.write(",".join(repr(x) for x in r) + "\n")
print(f"best: S={rows[0][0]} sigma={rows[0][1]} lr={rows[0][2]} best loss {rows[0][4]:.4f}")
PY
