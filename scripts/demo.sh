#!/usr/bin/env bash
# NeuroODE demo: installs the system libraries NeuroODE links against when they are missing, then
# simulates one Morris–Lecar neuron (hopf preset, I = 100 µA/cm², leapfrog dt = 0.1 ms, 1 s) and
# writes its trajectory (out/ml.csv), its spike times (out/ml.spikes.csv) and a voltage plot
# (out/ml.svg).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -f /usr/include/cvodes/cvodes.h ] || need+=(libsundials-dev)
[ -f /usr/include/x86_64-linux-gnu/openblas-pthread/cblas.h ] || [ -f /usr/include/openblas/cblas.h ] || need+=(libopenblas-dev)
if [ ${#need[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y "${need[@]}"
fi

swift run -c release neuroode simulate morris-lecar --spikes --output out/ml.csv --plot out/ml.svg
echo "wrote out/ml.csv ($(($(wc -l < out/ml.csv) - 1)) samples), out/ml.spikes.csv ($(($(wc -l < out/ml.spikes.csv) - 1)) spikes) and out/ml.svg"
