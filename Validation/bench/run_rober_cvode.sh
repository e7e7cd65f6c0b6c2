#!/usr/bin/env bash
# Builds and runs the plain-C ROBER benchmark (Validation/bench/rober_cvode.c).
# Usage: Validation/bench/run_rober_cvode.sh [repetitions]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${TMPDIR:-/tmp}/rober_cvode"
gcc -O2 -Wall -o "$out" "$here/rober_cvode.c" \
    -lsundials_cvodes -lsundials_nvecserial -lsundials_sunmatrixdense -lsundials_sunlinsoldense -lm
"$out" "${1:-200}"
