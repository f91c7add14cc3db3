#!/usr/bin/env bash
# Try Sokuresu locally: set up .venv, then run the demo (arguments go to `sokuresu demo`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/sokuresu demo "$@"
