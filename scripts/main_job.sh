#!/usr/bin/env bash
# The main job: install, then train a spiking CNN on Fashion-MNIST (digits if Fashion-MNIST
# cannot be installed), report its accuracy and write plots into runs/main/.
#   bash scripts/main_job.sh [extra spikesmith train options]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[main] installing Debian's dataset-fashion-mnist"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
    || echo "[main] could not install dataset-fashion-mnist; spikesmith will fall back to digits"
fi
bash scripts/setup_env.sh viz,data
venv="${SPIKESMITH_VENV:-.venv}"
exec "$venv/bin/spikesmith" train --out runs/main "$@"
