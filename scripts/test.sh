#!/usr/bin/env bash
# Install everything the tests exercise (package + test extra + peer libraries) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh test
venv="${SPIKEFORGE_VENV:-.venv}"
if [ "${SPIKEFORGE_SKIP_PEERS:-0}" != "1" ]; then
  PATH="$PWD/$venv/bin:$PATH" bash scripts/install_peers.sh
fi
exec "$venv/bin/python" -m pytest "$@"
