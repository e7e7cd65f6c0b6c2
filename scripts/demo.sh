#!/usr/bin/env bash
# NeuroODE demo: installs the system libraries NeuroODE links against when they are missing, then
# compares backpropagation through time with an evolution strategy on SPEC's turn-off task (one
# Morris–Lecar neuron, hopf, learn I from 100 µA/cm² until it stops firing over 3 s; Adam lr 0.1,
# 100 iterations, ES with 20 mirrored samples, σ = 1). Progress goes to standard error; the table
# of results, out/compare-turn-off/{curves.csv,summary.json} and the loss plots follow.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -f /usr/include/cvodes/cvodes.h ] || need+=(libsundials-dev)
[ -f /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] || [ -f /usr/include/openblas/cblas.h ] || need+=(libopenblas-dev)
# Open MPI: the neuroode executable links it (README "Beyond one machine: MPI"); mpirun runs the MPI tests.
pkg-config --exists ompi 2>/dev/null || need+=(libopenmpi-dev)
command -v pkg-config > /dev/null || need+=(pkg-config)
command -v mpirun > /dev/null || need+=(openmpi-bin)
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y "${need[@]}"
fi

swift build -c release --product neuroode >&2
.build/release/neuroode compare turn-off --methods bptt,es --out out/compare-turn-off
echo "plot: out/compare-turn-off/loss-vs-iteration.svg (and loss-vs-time.svg)"
