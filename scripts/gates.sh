#!/usr/bin/env bash
# The quality gates CI runs before the tests; each failure stops the run.
#   ruff check / ruff format --check   lint and formatting
#   lint-imports                       the layering contracts in pyproject.toml
#   mypy                               types of citydesk.layers, .planning, .optimization, .incidents
set -euo pipefail
cd "$(dirname "$0")/.."
bin=.venv/bin
echo "gate: ruff check"; "$bin/ruff" check .
echo "gate: ruff format --check"; "$bin/ruff" format --check .
echo "gate: import-linter"; "$bin/lint-imports"
# mypy names modules after folders; the repository root is the package `citydesk`, so it is
# shown to mypy through a link named citydesk (the installed editable finder is an import
# hook, which mypy does not follow).
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
ln -s "$PWD" "$tree/citydesk"
echo "gate: mypy"
MYPYPATH="$tree" "$bin/mypy" --no-error-summary \
  -p citydesk.layers -p citydesk.planning -p citydesk.optimization -p citydesk.incidents
echo "gates passed"
