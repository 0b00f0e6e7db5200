#!/usr/bin/env bash
# Set up everything CityDesk needs on a fresh Debian/Ubuntu machine with Python 3.11:
#   1. Debian packages Qt and Chinese text need (installed when missing and we are root;
#      otherwise the exact apt-get line is printed and we stop);
#   2. a virtual environment in .venv with CityDesk and its dev tools (re-installed only when
#      pyproject.toml changes).
# Idempotent: running it again is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

# Qt offscreen: libgl1 libglib2.0-0 libfontconfig1. A real window (X11/Xvfb): the xcb set.
# Chinese text in Qt and matplotlib: a CJK font (fonts-wqy-microhei is the small one).
DEB_PACKAGES=(
  libgl1 libglib2.0-0 libfontconfig1 libegl1
  libdbus-1-3 libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-render-util0 libxcb-render0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1
  libxcb-cursor0 libxcb-randr0 libxcb-xfixes0
  fonts-wqy-microhei
)
if [ -n "${CITYDESK_EXTRA_DEB:-}" ]; then
  read -r -a extra <<<"$CITYDESK_EXTRA_DEB"
  DEB_PACKAGES+=("${extra[@]}")
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; raise SystemExit(sys.version_info[:2] != (3, 11))'; then
      PYTHON=$candidate; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "CityDesk needs Python 3.11 (python3.11 not found)." >&2
  echo "On Debian 12: apt-get install python3.11 python3.11-venv" >&2
  exit 1
fi

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  # python3.11 -m venv needs python3.11-venv on Debian's own Python
  if ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then missing+=(python3.11-venv); fi
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "CityDesk needs these Debian packages. Run:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.citydesk-setup-stamp
want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "Installing CityDesk and its Python dependencies into .venv ..."
  # pipefail (set above) makes a failed pip fail this script; the filter only drops a
  # harmless pip warning and never decides the exit status.
  quiet() { grep -v "^WARNING: Location" || true; }
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | quiet
  .venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | quiet
  .venv/bin/python -c "import citydesk.layers, citydesk.workbench.cli.main"  # fail here, not later
  echo "$want" > "$stamp"
fi
# CityDesk's own modules as bytecode: an editable install leaves them as source, and where
# PYTHONDONTWRITEBYTECODE is set (CI containers often set it) every process compiled them
# again (a profile of the test suite: 38 s of CPU in compile()). Only changed files are
# compiled; a stale file is never used (Python checks each source's time and size).
.venv/bin/python -m compileall -q -j 0 __init__.py __main__.py layers planning optimization \
  incidents plugins workbench >/dev/null
