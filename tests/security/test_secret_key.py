"""SECRET_KEY (issue 13, item 5): processes starting together all get the same whole key, and none starts with
an empty or short one (everything unguessable is derived from it)."""
from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys

import pytest

from bot.config import MIN_SECRET_KEY, Config, ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _key_of(instance: str, queue) -> None:
    env = {"SOKURESU_INSTANCE": instance, "DATABASE_URL": "sqlite://"}
    try:
        queue.put(Config.from_env(env).secret_key)
    except ConfigError as exc:
        queue.put(f"error: {exc}")


def test_processes_starting_together_share_one_whole_key(tmp_path):
    for round_ in range(5):
        instance = str(tmp_path / f"instance{round_}")
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_key_of, args=(instance, queue)) for _ in range(8)]
        for p in procs:
            p.start()
        keys = [queue.get(timeout=30) for _ in procs]
        for p in procs:
            p.join()
        assert len(set(keys)) == 1 and len(keys[0]) >= MIN_SECRET_KEY, keys
        assert (tmp_path / f"instance{round_}" / "secret_key").read_text().strip() == keys[0]
        assert oct((tmp_path / f"instance{round_}" / "secret_key").stat().st_mode & 0o777) == "0o600"
        assert [f for f in os.listdir(instance) if f.startswith(".secret_key.")] == []  # no leftovers


@pytest.mark.parametrize("content", ["", "\n", "short-key"])
def test_an_empty_or_short_key_file_stops_the_start_with_a_clear_reason(tmp_path, content):
    (tmp_path / "secret_key").write_text(content)
    with pytest.raises(ConfigError, match="delete it to have a new one made"):
        Config.from_env({"SOKURESU_INSTANCE": str(tmp_path), "DATABASE_URL": "sqlite://"})


def test_a_short_secret_key_in_the_environment_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=f"at least {MIN_SECRET_KEY}"):
        Config.from_env({"SECRET_KEY": "letmein", "SOKURESU_INSTANCE": str(tmp_path), "DATABASE_URL": "sqlite://"})


def test_the_cli_names_the_problem_instead_of_a_traceback(tmp_path):
    env = {**os.environ, "SECRET_KEY": "letmein", "SOKURESU_INSTANCE": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    res = subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert res.returncode != 0 and "SECRET_KEY is only 7 characters" in res.stderr and "Traceback" not in res.stderr
