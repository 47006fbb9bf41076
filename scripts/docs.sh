#!/usr/bin/env bash
# Build the documentation site into site/: installs its own dependencies into the project's venv,
# runs every tutorial (docs/tutorials/*.py), builds with `mkdocs build --strict`, then checks the
# built site in headless Chromium (console errors, outside requests, figures, screenshots).
#   bash scripts/docs.sh           # standard settings
#   bash scripts/docs.sh --fast    # every tutorial at its smallest settings (what CI runs)
set -euo pipefail
cd "$(dirname "$0")/.."
fast=0
for arg in "$@"; do
  case "$arg" in
    --fast) fast=1 ;;
    *) echo "docs.sh: unknown argument '$arg' (use --fast)" >&2; exit 2 ;;
  esac
done
start=$(date +%s)
venv="${SPIKESMITH_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import spikesmith" 2>/dev/null; then
  bash scripts/setup_env.sh test
fi
py="$venv/bin/python"
if ! "$py" -c "import mkdocs, material, mkdocstrings_handlers.python, playwright" 2>/dev/null; then
  echo "[docs] installing the docs extra"
  "$py" -m pip --disable-pip-version-check -q install -e ".[docs]"
fi

# MathJax 3 is served from the site itself (nothing loads from the network): npm's mathjax, pinned,
# cached under .cache/docs and copied into docs/assets/mathjax (ignored by git).
mj=docs/assets/mathjax
if [ ! -f "$mj/tex-mml-chtml.js" ]; then
  cache=.cache/docs/npm
  if [ ! -f "$cache/node_modules/mathjax/es5/tex-mml-chtml.js" ]; then
    command -v npm >/dev/null || { echo "[docs] npm is needed to fetch MathJax (apt-get install npm)" >&2; exit 1; }
    mkdir -p "$cache"
    (cd "$cache" && npm install --silent --no-audit --no-fund --prefix . mathjax@3.2.2 >/dev/null)
  fi
  mkdir -p "$mj/output/chtml"
  cp "$cache/node_modules/mathjax/es5/tex-mml-chtml.js" "$mj/"
  cp -r "$cache/node_modules/mathjax/es5/output/chtml/fonts" "$mj/output/chtml/"
fi

if [ "$fast" = 1 ]; then export SPIKESMITH_DOCS_QUICK=1; fi
export NO_MKDOCS_2_WARNING=1          # Material's end-of-life banner
export SPIKESMITH_DOCS_BUILD="$PWD/.cache/docs/tutorials-$fast"
rm -rf "$SPIKESMITH_DOCS_BUILD"
echo "[docs] mkdocs build --strict (tutorials at $([ "$fast" = 1 ] && echo 'their smallest' || echo 'standard') settings)"
build_start=$(date +%s)
PYTHONPATH="$PWD/src" "$py" -m mkdocs build --strict --quiet
echo "[docs] built site/ in $(( $(date +%s) - build_start )) s"

# the browser check: Debian's chromium, driven by Playwright (no browser download)
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "[docs] installing Debian's chromium for the browser check"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "[docs] could not install chromium"
fi
if command -v chromium >/dev/null; then
  "$py" scripts/check_site.py site --browser "$(command -v chromium)"
else
  echo "[docs] chromium is missing: the browser check did not run (apt-get install chromium)" >&2
  exit 1
fi
echo "[docs] finished in $(( $(date +%s) - start )) s"
