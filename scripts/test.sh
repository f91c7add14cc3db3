#!/usr/bin/env bash
# Run the test suite: set up .venv (and chromium), then pytest with any arguments given.
# PostgreSQL tests run only when TEST_DATABASE_URL is set (CI sets it); otherwise they skip.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh test
if [ -n "${TEST_DATABASE_URL:-}" ]; then
    export TEST_DATABASE_URL
fi
exec .venv/bin/python -m pytest "$@"
