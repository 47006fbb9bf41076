#!/usr/bin/env bash
# Install espeak-ng, which speaks the words of --dataset spoken_digits (spikesmith.data.spoken_digits).
#   bash scripts/install_audio.sh
# Uses apt-get as root or through passwordless sudo; where neither works it says so and exits 0,
# so a set-up never fails for it (the dataset's own error then repeats how to install it).
set -uo pipefail
if command -v espeak-ng >/dev/null; then
  echo "[audio] espeak-ng is installed: $(command -v espeak-ng)"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "[audio] no apt-get here: install espeak-ng with your package manager (brew install espeak-ng, ...)"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  run=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  run=(sudo -n)
else
  echo "[audio] not root and no passwordless sudo: run 'sudo apt-get install espeak-ng' yourself"
  exit 0
fi
echo "[audio] installing espeak-ng"
if ! (DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq espeak-ng >/dev/null 2>&1 \
      || { "${run[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${run[@]}" apt-get install -y -qq espeak-ng >/dev/null; }); then
  echo "[audio] could not install espeak-ng; spoken_digits will say how when it is used"
fi
exit 0
