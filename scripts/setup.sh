#!/usr/bin/env bash
# One idempotent set-up: system packages, a venv, torch (CPU wheel unless an NVIDIA GPU is
# present), and the project with its extras (English G2P's NLTK data ships inside it).
# Re-running it only re-installs when pyproject.toml changed (stamp file), so it is fast and
# changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${GSV_VENV:-.venv}
PY=${PYTHON:-python3}
STAMP="$VENV/.gsv-setup-stamp"
APT_PKGS="espeak-ng sox ffmpeg pulseaudio pulseaudio-utils alsa-utils open-jtalk-mecab-naist-jdic cmake ninja-build g++ libportaudio2"

need_apt=""
for p in $APT_PKGS; do
  dpkg -s "$p" >/dev/null 2>&1 || need_apt="$need_apt $p"
done
if [ -n "$need_apt" ]; then
  echo "setup: installing Debian packages:$need_apt"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
# This machine's pip config names local indexes that lack some packages; pip warns about
# each one. Keep the set-up log readable.
pip_install() { set -o pipefail; $PIP install "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }

want="$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "setup: NVIDIA GPU found, installing the default (CUDA) torch"
    pip_install "torch>=2.6"  # as pyproject.toml: older weights_only loads can run code
  else
    echo "setup: no NVIDIA GPU, installing the CPU wheel torch==2.13.0"
    pip_install "torch==2.13.0"
  fi
fi
echo "setup: installing gsv-tui and its extras (first time: a few minutes)"
# OPEN_JTALK_DICT_DIR points pyopenjtalk at Debian's dictionary, so it never downloads one.
pip_install -e ".[test,funasr,ja,play,serve]"
echo "$want" > "$STAMP"
echo "setup: done"
