#!/usr/bin/env bash
# The paper-size evidence comparisons (README "ES variants"): SPEC's case A at the paper's size
# (128 neurons, batch 64, 6 ms tokens = 300 ms, leapfrog dt 0.1 ms, S = 100, σ = 0.1, Adam 5e-3,
# cross-entropy, test accuracy on 512 held-out trials every 25 iterations), then the authors'
# timing (4 ms tokens, batch 50):
#
#   folder                         setup    method  runs (seeds 0…)  what
#   A-readout                      paper    readout 3                W_out, b_out by their exact gradient; W_in, W_rec fixed
#   authors-readout                authors  readout 1                the readout-only baseline at the authors' timing
#   A-bptt                         paper    bptt    3                BPTT on every weight (clip 10)
#   A-es                           paper    es      2                mirrored ES on every weight
#   A-hybrid-alternate             paper    hybrid  2                ES on W_in, W_rec alternately (mirrored), readout exact
#   A-hidden-es-readout-frozen     paper    es      1                ES on W_in, W_rec alternately, readout frozen at its init
#   authors-hybrid-frozen-Wrec     authors  hybrid  1                the authors' runs: plain sampling, W_in/W_rec cycle with W_rec frozen
#   authors-hybrid-Wrec-trained    authors  hybrid  1                the same with W_rec updated too (what the authors' code meant to do)
#
# Run r of every method uses seed r: the same initialization, minibatches and test set, so
# differences between methods can be paired per seed. Each folder gets curves.csv,
# summary.json, the SVG plots, stdout.txt (the table) and command.txt; its checkpoints/ folder
# holds each run's checkpoints, so running this script again resumes every unfinished run from its
# newest checkpoint (finished runs are read back, not repeated) and rewrites the result files.
#
# Environment (all optional):
#   NEUROODE          the neuroode binary (default: build and use .build/release/neuroode)
#   OUT               where the folders go (default: Validation/reproduction/paper-scale)
#   ONLY              space-separated folder names to run (default: all, in the order above)
#   ITERATIONS        training iterations (default 500; raise it while test accuracy still rises)
#   CHECKPOINT_EVERY  iterations between checkpoints (default 5)
#   PRECISION         arithmetic of the forward-only methods' leapfrog: f32 (default) or f64
#   FORCE             set to rerun (resume) experiments whose summary.json already exists
#   Size overrides, for checking the script on a tiny network (they change every folder):
#   NEURONS, BATCH, TEST_TRIALS, SAMPLES, TOKEN_MS, EVAL_EVERY
#   e.g. NEURONS=3 BATCH=2 TEST_TRIALS=4 SAMPLES=4 TOKEN_MS=0.5 ITERATIONS=4 OUT=/tmp/ps ./run_paper_scale.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${OUT:-$root/Validation/reproduction/paper-scale}"
iterations="${ITERATIONS:-500}"
every="${CHECKPOINT_EVERY:-5}"
precision="${PRECISION:-f32}"
if [[ -z "${NEUROODE:-}" ]]; then
    (cd "$root" && swift build -c release --product neuroode >&2)
    NEUROODE="$root/.build/release/neuroode"
fi

size=()
[[ -n "${NEURONS:-}" ]] && size+=(--neurons "$NEURONS")
[[ -n "${BATCH:-}" ]] && size+=(--batch "$BATCH")
[[ -n "${TEST_TRIALS:-}" ]] && size+=(--test-trials "$TEST_TRIALS")
[[ -n "${TOKEN_MS:-}" ]] && size+=(--token-ms "$TOKEN_MS")
[[ -n "${EVAL_EVERY:-}" ]] && size+=(--eval-every "$EVAL_EVERY")
samples=()
[[ -n "${SAMPLES:-}" ]] && samples+=(--samples "$SAMPLES")

# name | setup | runs | runs ES (takes --samples) | the method options.
# Cheapest first: the readout baselines (one forward pass an iteration), then BPTT, then ES.
# The forward-only methods (readout, es, hybrid) run the float32 leapfrog (README "Precision").
experiments=(
    "A-readout|paper|3|no|--methods readout --precision $precision"
    "authors-readout|authors|1|no|--methods readout --precision $precision"
    "A-bptt|paper|3|no|--methods bptt"
    "A-hybrid-alternate|paper|2|yes|--methods hybrid --es-groups W_in,W_rec --alternate --precision $precision"
    "A-es|paper|2|yes|--methods es --precision $precision"
    "A-hidden-es-readout-frozen|paper|1|yes|--methods es --es-groups W_in,W_rec --alternate --precision $precision"
    "authors-hybrid-frozen-Wrec|authors|1|yes|--methods hybrid --es-groups W_in,W_rec --alternate --train-groups W_in,W_out,b_out --variant plain --precision $precision"
    "authors-hybrid-Wrec-trained|authors|1|yes|--methods hybrid --es-groups W_in,W_rec --alternate --variant plain --precision $precision"
)

for experiment in "${experiments[@]}"; do
    IFS='|' read -r name setup runs evolution options <<<"$experiment"
    if [[ -n "${ONLY:-}" && " $ONLY " != *" $name "* ]]; then continue; fi
    read -r -a method <<<"$options"
    directory="$out/$name"
    # A finished experiment (its summary written) is kept; FORCE=1 reruns it (resuming its runs).
    if [[ -f "$directory/summary.json" && -z "${FORCE:-}" ]]; then echo "== $name: finished, kept" >&2; continue; fi
    mkdir -p "$directory"
    extra=()
    if [[ "$evolution" == yes ]]; then extra+=(${samples[@]+"${samples[@]}"}); fi
    command=("$NEUROODE" compare evidence --setup "$setup" "${method[@]}" --runs "$runs" --seed 0 --iterations "$iterations"
             ${size[@]+"${size[@]}"} ${extra[@]+"${extra[@]}"} --out "$directory" --checkpoint-every "$every")
    # A folder with checkpoints is continued, not restarted.
    if [[ -d "$directory/checkpoints" ]]; then command+=(--resume); fi
    printf '%q ' "${command[@]}" | sed -e "s|^$NEUROODE |neuroode |" -e "s|$root/||g" >"$directory/command.txt"
    echo >>"$directory/command.txt"
    echo "== $name ($(date -u +%H:%M:%S) UTC)" >&2
    start=$SECONDS
    "${command[@]}" >"$directory/stdout.txt"
    echo "== $name done in $((SECONDS - start)) s; results in $directory" >&2
done
