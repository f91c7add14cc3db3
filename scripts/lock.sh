#!/usr/bin/env bash
# Regenerate requirements/lock.txt (what scripts/setup.sh installs, every file pinned by its sha256) from
# pyproject.toml: the dependencies, every extra (`test`, `postgres`, ...), the build back-end (build-system.requires)
# and pip itself. One universal lock (markers where a platform or Python version differs) for Python 3.11 and
# newer, resolved against the public package index only, whatever pip or uv configuration this machine has.
#
#   bash scripts/lock.sh                          after editing pyproject.toml: add and drop what changed,
#                                                 keeping every other locked version
#   bash scripts/lock.sh --upgrade                move everything to the newest versions pyproject.toml allows
#   bash scripts/lock.sh --upgrade-package NAME   move one package (repeatable)
#
# The lock is made by uv (`uv pip compile --generate-hashes`), itself installed hash-checked from
# requirements/uv.txt into a throwaway virtualenv; uv.txt is refreshed by the same run (so --upgrade moves uv
# too). Installing needs no uv: setup.sh uses pip with --require-hashes. Commit both files.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

note() { printf 'lock: %s\n' "$*" >&2; }

if command -v python3.11 >/dev/null 2>&1; then
    python=python3.11
else
    python=python3
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

note "installing uv (requirements/uv.txt) into a throwaway virtualenv"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary :all: -r requirements/uv.txt </dev/null

# uv's own configuration (uv.toml, [tool.uv], UV_* indexes) is ignored so the lock names the public index's
# files, the same on every machine. pip on a machine with extra indexes still installs from it: pip prefers a
# file whose index-given hash is in the lock and refuses any file whose hash is not.
compile=(env -u UV_INDEX_URL -u UV_DEFAULT_INDEX -u UV_EXTRA_INDEX_URL -u UV_INDEX -u UV_FIND_LINKS
         -u UV_CONSTRAINT -u UV_OVERRIDE -u UV_BUILD_CONSTRAINT
         "$work/venv/bin/uv" pip compile --no-config --quiet --universal --python-version 3.11
         --generate-hashes --custom-compile-command "bash scripts/lock.sh")

# pip and the build back-end are locked too: setup.sh upgrades the virtualenv's bootstrap pip and setuptools to
# these versions first, and builds the project with them (no build isolation, so nothing unhashed is fetched).
"$work/venv/bin/python" - >"$work/tools.in" <<'EOF'
import tomllib

with open("pyproject.toml", "rb") as f:
    data = tomllib.load(f)
print("pip")
for requirement in data["build-system"]["requires"]:
    print(requirement)
EOF

note "resolving pyproject.toml (dependencies, every extra, build-system) into requirements/lock.txt"
"${compile[@]}" --all-extras pyproject.toml - -o requirements/lock.txt "$@" <"$work/tools.in"

note "refreshing requirements/uv.txt"
echo uv | "${compile[@]}" - -o requirements/uv.txt "$@"

note "done: review and commit requirements/lock.txt and requirements/uv.txt; scripts/setup.sh reinstalls on its next run"
