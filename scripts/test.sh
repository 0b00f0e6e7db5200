#!/usr/bin/env bash
# Set up CityDesk, run the quality gates, then the whole test suite (GUI tests run offscreen,
# no display needed). Arguments go to pytest.
#
#   CITYDESK_AS_CLONE=1   run the suite from a copy of the working tree with no ../shared beside
#                         it, as on a user's fresh clone: the tests that need the real data sets
#                         skip as one group and every other test must pass.
#   CITYDESK_GATES=0      skip the quality gates (ruff, import-linter, mypy).
set -euo pipefail
cd "$(dirname "$0")/.."
# The case-store tests run on the GeoPackage and on PostgreSQL + PostGIS: the server packages
# are installed here when missing; the tests start a throwaway cluster in a temporary folder
# on a loopback port and stop it at the end (tools/pg_cluster.py, tests/conftest.py).
# Debian's QGIS 3.22 (python3-qgis, about 100 MB) is the peer that opens CityDesk's
# GeoPackages and published PostGIS layers with their styles (tests/test_qgis_compat.py,
# tests/test_shared_layers.py); without it those two tests skip.
CITYDESK_EXTRA_DEB="${CITYDESK_EXTRA_DEB:-} postgresql-15 postgresql-15-postgis-3 python3-qgis" \
  bash scripts/setup.sh
export CITYDESK_REQUIRE_POSTGIS=1
# the example plugin (docs/PLUGINS.md) is installed for the tests: its own tests run here too
example=examples/plugins/noise_exposure
stamp=.venv/.noise-exposure-stamp
want=$(sha256sum "$example/pyproject.toml" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install -q --no-deps -e "$example" 2>&1 | { grep -v "^WARNING: Location" || true; }
  echo "$want" > "$stamp"
fi
if [ "${CITYDESK_GATES:-1}" != "0" ]; then
  bash scripts/gates.sh
fi
export QT_QPA_PLATFORM=offscreen
export MPLBACKEND=Agg
python=$PWD/.venv/bin/python
where=$PWD
if [ "${CITYDESK_AS_CLONE:-0}" = "1" ]; then
  # a copy of the tracked and new files, in a folder with no ../shared next to it
  clone=$(mktemp -d)/citydesk
  trap 'rm -rf "$(dirname "$clone")"' EXIT
  mkdir -p "$clone"
  git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$clone"
  where=$clone
  echo "running the suite as a fresh clone would, in $clone"
fi
# both cores: pytest-xdist, one worker per core; tests are dealt out one by one (balances the
# few long tests: the 3-objective Pareto front, the crash tests), except those marked
# xdist_group, which share an expensive module fixture and go to one worker together
workers=${CITYDESK_TEST_WORKERS:-$(nproc)}
set +e
(cd "$where" && "$python" -P -m pytest -n "$workers" --dist loadgroup "$@")
status=$?
set -e
if [ "$status" = "5" ]; then
  echo "pytest collected no tests: treating that as a failure (tests were expected)." >&2
  exit 1
fi
exit "$status"
