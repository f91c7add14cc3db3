"""Shared pytest fixtures."""
from __future__ import annotations

import os
import secrets

import pytest

# --- PostgreSQL: a throwaway database per test on the server named by TEST_DATABASE_URL ----

PG_SKIP_REASON = "TEST_DATABASE_URL not set: PostgreSQL tests need a server (CI sets it)"


def _pg_server_url() -> str:
    """Return TEST_DATABASE_URL; skip without it, but fail in CI where it must be set."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but TEST_DATABASE_URL is not set: .ci/run must export it", pytrace=False)
    pytest.skip(PG_SKIP_REASON)


@pytest.fixture
def pg_url():
    """Yield the URL of a fresh, empty PostgreSQL database; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    server = make_url(_pg_server_url())
    name = f"sokuresu_test_{secrets.token_hex(6)}"
    # CREATE/DROP DATABASE cannot run inside a transaction: use autocommit.
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            # FORCE closes sessions a test left open (PostgreSQL 13+).
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
