#!/usr/bin/env bash
# Everything the assistant and its tests need, on a fresh Debian/Ubuntu machine:
# system packages (eSpeak NG, PortAudio, PulseAudio, sox, graphviz, Chromium, Node.js),
# a virtualenv in .venv with the Python packages, and node_modules with axe-core. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-system.sh

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($python --version)"
  "$python" -m venv .venv
fi
# Silero VAD's model, for the benches only (bench/silero_vad.py, which names this version):
# the package without its dependencies, since those are torch and torchaudio (gigabytes);
# onnxruntime, which runs the model, is in the dev extras.
silero=silero-vad==6.2.3
# Smart Turn's end-of-turn model, for the endpointing bench only (bench/smart_turn.py): it
# ships inside pipecat-ai, whose dependencies (an OpenAI client, numba, ...) are not needed
# to run the model file with onnxruntime.
smart_turn=pipecat-ai==1.14.0
stamp=.venv/.installed-$( (cat pyproject.toml; echo "$silero $smart_turn") | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "setup: installing Python packages"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  .venv/bin/python -m pip install --quiet --no-deps "$silero" "$smart_turn"
  rm -f .venv/.installed-* && touch "$stamp"
fi
# axe-core (the accessibility checker the screen's tests inject into the page), pinned in
# package-lock.json.
lock_stamp=node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$lock_stamp" ]; then
  echo "setup: installing node packages"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$lock_stamp"
fi
echo "setup: ready"
