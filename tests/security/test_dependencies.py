"""Dependencies (issue 13, item 13): everything set-up installs comes from requirements/lock.txt, each file pinned
by its sha256, and the lock covers pyproject.toml; the virtualenv runs the locked pip, not the old one that
`python -m venv` bootstraps. After editing pyproject.toml's dependencies, run `bash scripts/lock.sh`."""
from __future__ import annotations

import ensurepip
import os
import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOCK = os.path.join(ROOT, "requirements", "lock.txt")
UV_LOCK = os.path.join(ROOT, "requirements", "uv.txt")
HASH = re.compile(r"--hash=sha256:([0-9a-f]{64})")
REGENERATE = "run `bash scripts/lock.sh` and commit requirements/lock.txt"


def _entries(path: str) -> list[tuple[Requirement, list[str], str]]:
    """The lock's requirements: (requirement, its sha256 hashes, the entry's text) for each, continuation lines
    joined and comments left out."""
    entries, current = [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            current += " " + line.rstrip("\\").strip()
            if line.endswith("\\"):
                continue
            head, _, _ = current.strip().partition(" --")
            entries.append((Requirement(head), HASH.findall(current), current.strip()))
            current = ""
    assert not current, f"{path} ends inside an entry: {current!r}"
    return entries


def _pyproject() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)


def _declared() -> list[Requirement]:
    """What pyproject.toml asks for: the dependencies, every extra and the build back-end."""
    project = _pyproject()
    texts = list(project["project"]["dependencies"])
    for extra in project["project"].get("optional-dependencies", {}).values():
        texts.extend(extra)
    texts.extend(project["build-system"]["requires"])
    return [Requirement(text) for text in texts]


def _locked_here() -> dict[str, str]:
    """name -> version of the lock's entries that apply to this interpreter and platform."""
    return {canonicalize_name(req.name): next(iter(req.specifier)).version
            for req, _, _ in _entries(LOCK) if req.marker is None or req.marker.evaluate()}


@pytest.mark.parametrize("path", [LOCK, UV_LOCK], ids=["lock.txt", "uv.txt"])
def test_every_entry_is_one_exact_version_with_its_hashes(path):
    entries = _entries(path)
    assert entries, f"{path} lists nothing"
    for req, hashes, text in entries:
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version, \
            f"not pinned to one version: {text[:80]}"
        assert not req.url and not req.extras, f"a URL or extras in the lock: {text[:80]}"
        assert hashes, f"no --hash for {req.name}: pip's --require-hashes refuses the whole lock"
        assert set(re.findall(r"--\S+", text)) <= {f"--hash=sha256:{h}" for h in hashes}, \
            f"an option other than --hash in {req.name}'s entry: {text[:120]}"


def test_every_declared_requirement_is_locked_at_a_version_it_allows():
    locked: dict[str, list[str]] = {}
    for req, _, _ in _entries(LOCK):
        locked.setdefault(canonicalize_name(req.name), []).append(next(iter(req.specifier)).version)
    for declared in _declared():
        name = canonicalize_name(declared.name)
        assert name in locked, f"pyproject.toml asks for {declared} but the lock lacks it: {REGENERATE}"
        for version in locked[name]:
            assert declared.specifier.contains(version, prereleases=True), \
                f"pyproject.toml asks for {declared} but the lock has {name}=={version}: {REGENERATE}"


def test_the_lock_holds_everything_installed_requirements_pull_in():
    """The install uses --no-deps, so the lock must be closed: walk the installed distributions' requirements
    (with their extras and markers, for this interpreter) from pyproject.toml's and find each in the lock at the
    installed version."""
    locked = _locked_here()
    todo = [(canonicalize_name(req.name), frozenset(req.extras)) for req in _declared()
            if req.marker is None or req.marker.evaluate()]
    seen = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        assert name in locked, f"{name} is needed (by pyproject.toml or a locked package) but not locked: {REGENERATE}"
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is locked but not installed: run `bash scripts/setup.sh`")
        assert Version(installed) == Version(locked[name]), \
            f"{name} {installed} installed, {locked[name]} locked: run `bash scripts/setup.sh`"
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": extra}) for extra in {"", *extras}):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))


@pytest.mark.parametrize("tool", ["pip", "setuptools"])
def test_the_virtualenv_runs_the_locked_pip_and_setuptools(tool):
    """`python -m venv` installs the pip that ensurepip carries (old, with known advisories, and on Python 3.11
    an old setuptools as well); set-up upgrades both to the lock's versions before installing anything else."""
    locked = Version(_locked_here()[tool])
    installed = Version(metadata.version(tool))
    assert installed >= locked, f"{tool} {installed} in the virtualenv, {locked} locked: run `bash scripts/setup.sh`"
    if tool == "pip":
        assert installed > Version(ensurepip.version()), "the virtualenv still runs the bootstrap pip"
