#!/usr/bin/env bash
# Set up CityDesk and run the Cambridge demo: the workbench window when a display exists,
# otherwise the headless demo, which writes its maps and report to ./citydesk-demo-output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/citydesk demo "$@"
