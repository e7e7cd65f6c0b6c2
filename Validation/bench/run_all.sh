#!/usr/bin/env bash
# Runs NeuroODE's benchmarks and the peer suite (Validation/bench/peers/) one after another on this
# machine, into Validation/bench/results/<date>/ (results.jsonl, results.json, results.csv,
# report.md, plot.png, plot.svg, log.txt). See Validation/bench/peers/README.md.
#
# Usage: Validation/bench/run_all.sh [--quick] [--neuroode PATH] [--out DIR] [--only LIST]
#   --quick      tiny sizes, into results/quick/ (gitignored): checks that everything runs
#   --neuroode   the neuroode executable (default: built here, release; debug with --quick)
#   --out        the results folder
#   --only       comma-separated steps: probe,neuroode,jax,torch,numpy,diffrax,torchdiffeq,rober
#
# Nothing else should run meanwhile: every number is a wall-clock time. A NeuroODE command that
# fails (for instance one not added yet) is recorded with status "missing" and the run goes on.
set -uo pipefail

bench="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$bench/../.." && pwd)"
peers="$bench/peers"
quick=0
neuroode=""
out=""
only="probe,neuroode,jax,torch,numpy,diffrax,torchdiffeq,rober"
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --neuroode) neuroode="$2"; shift ;;
    --out) out="$2"; shift ;;
    --only) only="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
wants() { case ",$only," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

py="$peers/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "error: $py not found: run Validation/bench/peers/setup.sh first" >&2
  exit 1
fi
if [ -z "$out" ]; then
  if [ "$quick" = 1 ]; then out="$bench/results/quick"; else out="$bench/results/$(date -u +%Y-%m-%d)"; fi
fi
mkdir -p "$out"
raw="$out/results.jsonl"
log="$out/log.txt"
: > "$raw"
: > "$log"
flag=()
[ "$quick" = 1 ] && flag=(--quick)

if wants neuroode && [ -z "$neuroode" ]; then
  config=release
  [ "$quick" = 1 ] && config=debug
  echo "== building neuroode ($config)" >&2
  (cd "$root" && swift build -c "$config" --product neuroode >> "$log" 2>&1) || echo "warning: swift build failed (see $log)" >&2
  neuroode="$(cd "$root" && swift build -c "$config" --show-bin-path)/neuroode"
fi

"$py" - "$out/meta.json" "$quick" "$neuroode" "$root" <<'EOF'
import datetime, json, subprocess, sys
def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""
json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "commit": sh("git", "-C", sys.argv[4], "rev-parse", "HEAD"), "quick": sys.argv[2] == "1", "neuroode": sys.argv[3],
           "swift": sh("swift", "--version").splitlines()[0] if sh("swift", "--version") else "",
           "python": sys.version.split()[0]}, open(sys.argv[1], "w"), indent=1)
EOF

# One step: its JSON lines go to results.jsonl, its stderr to log.txt; a failure is recorded.
step() {
  local name="$1"; shift
  echo "== $name" >&2
  echo "== $name: $*" >> "$log"
  local start=$SECONDS
  if ! "$@" >> "$raw" 2>> "$log"; then
    "$py" -c 'import json, sys; print(json.dumps({"tool": sys.argv[1], "workload": "all", "status": "failed", "error": sys.argv[2]}))' \
      "$name" "$(tail -n 1 "$log")" >> "$raw"
    echo "   failed (see $log)" >&2
  fi
  echo "   $((SECONDS - start)) s" >&2
}

# The suite's own self-test (the network port against NeuroODE's output, the wrapper, the report).
step selftest sh -c '"$0" "$1" >&2' "$py" "$peers/test_peers.py"

# The machine's limits; OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some hosts for old OpenBLAS
# builds) would slow the GEMM probe, so they are unset for it alone.
wants probe && step probe env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" "$peers/probe.py" "${flag[@]}"

if wants neuroode; then
  run() { local workload="$1" precision="$2"; shift 2
          step "neuroode $workload $precision" "$py" "$peers/run_neuroode.py" "$workload" "$precision" -- "$neuroode" bench "$@"; }
  if [ "$quick" = 1 ]; then
    # The peers' --quick sizes (common.sizes), so that the losses can be compared here too.
    small=(--neurons 16 --batch 8)
    for p in f32 f64; do
      run network-forward "$p" simulate --precision "$p" --format json "${small[@]}" --steps 100 --repeats 1
      run es-iteration "$p" es --samples 4 --steps 100 --precision "$p" --format json "${small[@]}"
    done
    run bptt f64 bptt --steps 100 --format json "${small[@]}"
    run bptt-checkpointed f64 bptt --steps 200 --checkpointed --format json "${small[@]}"
    run spiral-H50 f64 spiral --hidden 50 --iterations 3 --format json
    run rober f64 rober --repetitions 5 --format json
  else
    for p in f32 f64; do
      run network-forward "$p" simulate --precision "$p" --format json
      run es-iteration "$p" es --samples 100 --steps 3000 --precision "$p" --format json
    done
    run bptt f64 bptt --steps 3000 --format json
    run bptt-checkpointed f64 bptt --steps 10000 --checkpointed --format json
    run spiral-H50 f64 spiral --hidden 50 --format json
    run spiral-H1000 f64 spiral --hidden 1000 --format json
    run rober f64 rober --format json
  fi
fi

wants jax && step jax "$py" "$peers/jax_network.py" "${flag[@]}"
wants torch && step pytorch "$py" "$peers/torch_network.py" "${flag[@]}"
wants numpy && step numpy "$py" "$peers/numpy_network.py" "${flag[@]}"
wants diffrax && step diffrax "$py" "$peers/spiral_diffrax.py" "${flag[@]}"
wants torchdiffeq && step torchdiffeq "$py" "$peers/spiral_torchdiffeq.py" "${flag[@]}"
wants rober && step rober "$py" "$peers/rober.py" "${flag[@]}"

echo "== report" >&2
"$py" "$peers/report.py" "$out" > /dev/null && echo "wrote $out/{results.json,results.csv,report.md,plot.png,plot.svg}" >&2
