#!/usr/bin/env bash
# Creates Validation/bench/peers/.venv (gitignored) and installs the peer suite's packages
# (requirements.txt) from PyPI. Idempotent: a second run only checks that everything imports.
#
# PyTorch: PyPI has no CPU-only torch wheel for Linux x86-64 — its wheel there is the CUDA build,
# which pulls the nvidia-* and triton packages (about 5 GB of the venv's 6 GB). They are installed
# as they are and never used (the suite runs on the CPU). If you have a CPU-only wheel index,
# pass it through TORCH_PIP_ARGS (for example TORCH_PIP_ARGS="--index-url URL") to install torch
# from there instead.
#
# Usage: Validation/bench/peers/setup.sh   (PYTHON=python3.12 to choose the interpreter)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

check() {
  "$venv/bin/python" - <<'PY'
import importlib
for name in ("numpy", "scipy", "matplotlib", "jax", "diffrax", "equinox", "optax", "torch", "torchdiffeq"):
    importlib.import_module(name)
PY
}

if [ -x "$venv/bin/python" ] && check 2>/dev/null; then
  echo "peers venv ready: $venv"
  exit 0
fi
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
if [ -n "${TORCH_PIP_ARGS:-}" ]; then
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install $TORCH_PIP_ARGS "$(grep '^torch==' "$here/requirements.txt")"
fi
"$venv/bin/python" -m pip install -r "$here/requirements.txt"
check
echo "peers venv ready: $venv ($(du -sh "$venv" | cut -f1))"
