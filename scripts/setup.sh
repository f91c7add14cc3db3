#!/usr/bin/env bash
# Idempotent set-up: .venv with the project installed (editable, test extras), and for
# `setup.sh test` Debian's chromium for the browser tests. Safe to run with no stdin (CI).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
stamp="$venv/.sokuresu-install-stamp"

note() { printf 'setup: %s\n' "$*" >&2; }

pick_python() {
    if command -v python3.11 >/dev/null 2>&1; then
        echo python3.11
    elif command -v python3 >/dev/null 2>&1 \
        && python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo python3
    else
        note "Python 3.11 or newer is needed (neither python3.11 nor a recent python3 found)"
        return 1
    fi
}

ensure_venv() {
    if [ ! -x "$venv/bin/python" ]; then
        local py
        py="$(pick_python)"
        note "creating .venv with $py"
        "$py" -m venv "$venv"
        rm -f "$stamp"
    fi
}

ensure_install() {
    # The stamp records pyproject.toml's hash and the checkout path (an editable install
    # points at it), so the slow pip step runs only when either changed.
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) $root"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    note "installing the project into .venv (pyproject.toml changed or first run)"
    rm -f "$stamp"
    # Build back-ends print pages of warnings even with --quiet: show the log only on failure.
    local log
    log="$(mktemp)"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -e ".[test]" </dev/null >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        note "pip install failed (output above)"
        return 1
    fi
    rm -f "$log"
    printf '%s\n' "$want" >"$stamp"
}

ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            note "chromium missing and not root: browser tests will skip (apt-get install chromium)"
            return 0
        fi
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        note "chromium missing and no apt-get here: browser tests will skip"
        return 0
    fi
    note "installing Debian's chromium for the browser tests"
    local log
    log="$(mktemp)"
    if $sudo apt-get update -qq </dev/null >"$log" 2>&1 \
        && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
            </dev/null >>"$log" 2>&1; then
        rm -f "$log"
    else
        tail -n 20 "$log" >&2 || true
        rm -f "$log"
        note "could not install chromium (see above): browser tests will skip"
    fi
}

main() {
    # Serialise concurrent runs (two test runs at once must not both pip-install).
    if command -v flock >/dev/null 2>&1; then
        mkdir -p "$venv"
        exec 9>"$venv/.setup.lock"
        flock 9
    fi
    ensure_venv
    ensure_install
    if [ "${1:-}" = "test" ]; then
        ensure_chromium
    fi
}

main "$@"
