#!/usr/bin/env bash
# Strong scaling of one ES iteration over MPI ranks on this machine (README "Beyond one machine:
# MPI"): the paper's size (128 neurons, batch 64, S = 100 mirrored samples, f32 leapfrog, 3000
# steps), with R = 1 and R = 2 ranks and ranks × threads = cores; then the exchange alone (bytes and
# latency per iteration). Writes Validation/bench/results/mpi-<date>/{results.jsonl,report.md}.
#
# Usage: Validation/bench/mpi_scaling.sh [--quick] [--repeats K]
#   --quick     a tiny network (16 neurons, batch 8, 300 steps, S = 20) and a debug build: checks that it runs
#   --repeats   ES iterations timed per R (default 3; the median is reported)
#
# Nothing else should run meanwhile: every number is a wall-clock time.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
quick=0
repeats=3
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --repeats) repeats="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
command -v mpirun > /dev/null || { echo "error: mpirun not found (Debian: apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

config=release
shape=(--neurons 128 --batch 64 --steps 3000 --samples 100 --precision f32)
samples=100
if [ "$quick" = 1 ]; then
  config=debug
  shape=(--neurons 16 --batch 8 --steps 300 --samples 20 --precision f32)
  samples=20
fi
(cd "$root" && swift build -c "$config" --product neuroode >&2)
neuroode="$(cd "$root" && swift build -c "$config" --show-bin-path)/neuroode"

cores=$(nproc)
out="$root/Validation/bench/results/mpi-$(date -u +%Y-%m-%d)"
[ "$quick" = 1 ] && out="$root/Validation/bench/results/quick-mpi"
mkdir -p "$out"
raw="$out/results.jsonl"
: > "$raw"

# --bind-to none: Open MPI binds each rank to one core by default, which would leave a rank's
# threads on that one core; here the threads of a rank spread over the cores the rank may use.
for ranks in 1 2; do
  threads=$(( cores / ranks )); [ "$threads" -ge 1 ] || threads=1
  for run in $(seq "$repeats"); do
    echo "== ES iteration, R = $ranks, $threads thread(s) per rank, run $run/$repeats" >&2
    mpirun --oversubscribe --bind-to none -np "$ranks" "$neuroode" bench es "${shape[@]}" --threads "$threads" --format json \
      | sed "s/^{/{\"ranks\":$ranks,/" >> "$raw"
  done
done
for ranks in 2; do
  echo "== exchange alone, R = $ranks" >&2
  mpirun --oversubscribe -np "$ranks" "$neuroode" bench exchange --samples "$samples" --repeats 1000 --format json \
    | sed "s/^{/{\"ranks\":$ranks,/" >> "$raw"
done

python3 - "$raw" "$out/report.md" "$cores" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
cores = int(sys.argv[3])
es = {}
for row in rows:
    if row["benchmark"] == "es":
        es.setdefault(row["ranks"], []).append(row)
lines = [f"# One ES iteration over MPI ranks ({cores} cores)", "",
         "| R | threads per rank | seconds per iteration (median) | speed-up | loss | gradient norm |", "|---|---|---|---|---|---|"]
base = None
for ranks in sorted(es):
    runs = es[ranks]
    seconds = statistics.median(r["measurements"]["secondsPerIteration"] for r in runs)
    base = base or seconds
    first = runs[0]["measurements"]
    lines.append(f"| {ranks} | {runs[0]['threads']} | {seconds:.3f} | {base / seconds:.2f} | {first['loss']!r} | {first['gradientNorm']!r} |")
norms = {r["measurements"]["gradientNorm"] for rs in es.values() for r in rs}
lines += ["", "The gradient norm is the same number for every R: " + ("yes" if len(norms) == 1 else f"NO ({sorted(norms)})"), ""]
for row in rows:
    if row["benchmark"] == "exchange":
        m = row["measurements"]
        lines.append(f"Exchange alone, R = {row['ranks']}: {int(m['bytesSentPerRank'])} B sent and {int(m['bytesGathered'])} B "
                     f"gathered per rank, {m['secondsPerExchange'] * 1e6:.1f} µs per iteration (median).")
open(sys.argv[2], "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
echo "wrote $out/results.jsonl and $out/report.md" >&2
