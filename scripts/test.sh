#!/usr/bin/env bash
# Set up CityDesk and run the whole test suite (GUI tests run offscreen, no display needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
export MPLBACKEND=Agg
set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
  echo "pytest collected no tests: treating that as a failure (tests were expected)." >&2
  exit 1
fi
exit "$status"
