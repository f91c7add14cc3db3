#!/usr/bin/env bash
# Idempotent set-up: .venv with requirements/lock.txt (hash-checked) and the project (editable), and for
# `setup.sh test` Debian's chromium for the browser tests and axe-core from npm (package-lock.json) for the
# accessibility test. Safe to run with no stdin (CI).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="$root/.venv"
stamp="$venv/.sokuresu-install-stamp"
lock="requirements/lock.txt"

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
    # Everything comes from requirements/lock.txt, each file checked against its sha256 (scripts/lock.sh makes
    # the lock from pyproject.toml). The stamp records the lock's and pyproject.toml's hashes and the checkout
    # path (an editable install points at it), so the slow pip steps run only when one of them changed.
    local want
    want="$(sha256sum "$lock" pyproject.toml | cut -d' ' -f1 | tr '\n' ' ')$root"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    note "installing $lock into .venv (the lock or pyproject.toml changed, or first run)"
    rm -f "$stamp"
    # Build back-ends print pages of warnings even with --quiet: show the log only on failure.
    local log tools
    log="$(mktemp)"
    tools="$(mktemp)"
    # 1. pip and setuptools first: the venv's bootstrap copies (from ensurepip) are old and have known
    #    advisories; the locked ones then install everything else and build the project.
    awk 'BEGIN { want["pip"] = 1; want["setuptools"] = 1 }
         /^[^ #]/ { split($1, pin, "=="); keep = (tolower(pin[1]) in want) }
         keep' "$lock" >"$tools"
    # 2. the lock, hash-checked, wheels only (nothing is built, so no unhashed build dependency is fetched),
    #    no dependency resolution (the lock is complete). 3. the project itself, built by the locked setuptools.
    if ! { pip_install --require-hashes --no-deps --only-binary :all: -r "$tools" \
        && pip_install --require-hashes --no-deps --only-binary :all: -r "$lock" \
        && pip_install --no-deps --no-build-isolation -e . ; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log" "$tools"
        note "pip install failed (output above)"
        return 1
    fi
    rm -f "$tools"
    # --no-deps trusts the lock to be complete: pip check says if it is not (pyproject.toml changed, lock not).
    if ! "$venv/bin/python" -m pip check --disable-pip-version-check >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        note "$lock does not satisfy pyproject.toml: run bash scripts/lock.sh and commit the lock"
        return 1
    fi
    rm -f "$log"
    printf '%s\n' "$want" >"$stamp"
}

pip_install() {
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$@" </dev/null
}

ensure_chromium() {
    # With a Japanese font: without one chromium draws Japanese as empty boxes, and the journey screenshots
    # (tests/e2e/test_journey_screenshots.py), made for a person to look at, show nothing readable.
    [ -x /usr/bin/chromium ] && [ -n "$(fc-list :lang=ja 2>/dev/null)" ] && return 0
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
    note "installing Debian's chromium and a Japanese font (fonts-noto-cjk) for the browser tests"
    local log
    log="$(mktemp)"
    if $sudo apt-get update -qq </dev/null >"$log" 2>&1 \
        && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
            </dev/null >>"$log" 2>&1; then
        rm -f "$log"
    else
        tail -n 20 "$log" >&2 || true
        rm -f "$log"
        note "could not install chromium (see above): browser tests will skip"
    fi
}

ensure_node_tools() {
    # axe-core for the accessibility test (tests/e2e/test_accessibility.py), pinned in package-lock.json. `npm ci`
    # only with the lock, no install scripts; the stamp (the lock's hash) makes a second run a no-op.
    local npm_stamp="$root/node_modules/.sokuresu-npm-stamp" want
    want="$(sha256sum package.json package-lock.json | cut -d' ' -f1 | tr '\n' ' ')"
    if [ -f "$npm_stamp" ] && [ "$(cat "$npm_stamp")" = "$want" ] && [ -f node_modules/axe-core/axe.min.js ]; then
        return 0
    fi
    if ! command -v npm >/dev/null 2>&1; then
        if [ "${CI:-}" = "true" ]; then
            note "npm missing in CI: the accessibility test will fail (install Node.js and npm)"
        else
            note "npm missing: the accessibility test will skip (install Node.js and npm, then run setup.sh test)"
        fi
        return 0
    fi
    note "installing package-lock.json (axe-core) into node_modules"
    local log
    log="$(mktemp)"
    if npm ci --ignore-scripts --no-audit --no-fund --loglevel=error </dev/null >"$log" 2>&1; then
        rm -f "$log"
        printf '%s\n' "$want" >"$npm_stamp"
    else
        cat "$log" >&2
        rm -f "$log"
        note "npm ci failed (output above): the accessibility test cannot run"
        return 1
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
        ensure_node_tools
    fi
}

main "$@"
