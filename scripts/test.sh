#!/usr/bin/env bash
# Install everything the tests exercise (package + test extra + peer libraries) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
# the real-data tests read Debian's Fashion-MNIST; install it where we can (root on Debian)
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[test] installing Debian's dataset-fashion-mnist for the real-data tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) \
    || echo "[test] could not install dataset-fashion-mnist; its tests will skip"
fi
bash scripts/setup_env.sh test
venv="${SPIKESMITH_VENV:-.venv}"
if [ "${SPIKESMITH_SKIP_PEERS:-0}" != "1" ]; then
  PATH="$PWD/$venv/bin:$PATH" bash scripts/install_peers.sh
fi
exec "$venv/bin/python" -m pytest "$@"
