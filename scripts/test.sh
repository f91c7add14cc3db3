#!/usr/bin/env bash
# Run the test suite: set up .venv (and chromium), check the import rules (lint-imports: the contracts in
# pyproject.toml) and the lint (ruff), then pytest with any arguments given. With arguments (a subset of the
# tests) the two checks are skipped. PostgreSQL tests run only when TEST_DATABASE_URL is set (CI sets it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh test
if [ -n "${TEST_DATABASE_URL:-}" ]; then
    export TEST_DATABASE_URL
fi
if [ "$#" -eq 0 ]; then
    echo "test: import rules (lint-imports)" >&2
    .venv/bin/lint-imports --no-cache
    echo "test: lint (ruff)" >&2
    .venv/bin/ruff check --no-cache .
fi
exec .venv/bin/python -m pytest "$@"
