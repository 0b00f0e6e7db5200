#!/usr/bin/env bash
# Set up CityDesk and run the whole test suite (GUI tests run offscreen, no display needed).
set -euo pipefail
cd "$(dirname "$0")/.."
# The case-store tests run on the GeoPackage and on PostgreSQL + PostGIS: the server packages
# are installed here when missing; the tests start a throwaway cluster in a temporary folder
# on a loopback port and stop it at the end (tools/pg_cluster.py, tests/conftest.py).
CITYDESK_EXTRA_DEB="${CITYDESK_EXTRA_DEB:-} postgresql-15 postgresql-15-postgis-3" \
  bash scripts/setup.sh
export CITYDESK_REQUIRE_POSTGIS=1
# the example plugin (docs/PLUGINS.md) is installed for the tests: its own tests run here too
example=examples/plugins/noise_exposure
stamp=.venv/.noise-exposure-stamp
want=$(sha256sum "$example/pyproject.toml" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --no-deps -e "$example" 2>&1 | grep -v "^WARNING: Location" || true
  echo "$want" > "$stamp"
fi
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
