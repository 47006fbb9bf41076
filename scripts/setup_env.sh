#!/usr/bin/env bash
# Create (or reuse) the project venv and install spikesmith into it.
#   bash scripts/setup_env.sh [EXTRAS]     e.g. EXTRAS=test  (default: viz,data)
# torch is installed first and pinned, so no dependency can pull a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-viz,data}"
venv="${SPIKESMITH_VENV:-.venv}"
py="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  echo "[setup] creating $venv"
  "$py" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --upgrade pip setuptools wheel >/dev/null
echo "[setup] torch==2.13.0"
"${pip[@]}" install "torch==2.13.0"
echo "[setup] spikesmith[$extras]"
"${pip[@]}" install -e ".[${extras}]"
"$venv/bin/python" - <<'PY'
import torch
assert torch.__version__.startswith("2.13.0"), f"unexpected torch {torch.__version__}"
print(f"[setup] torch {torch.__version__} ok")
PY
# espeak-ng for --dataset spoken_digits, where apt can install it (never fails the set-up)
bash scripts/install_audio.sh || true
