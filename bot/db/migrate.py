"""Database migrations (Alembic) callable from code: upgrade, current revision, drift check.

The scripts live in bot/db/migrations/versions/ and are numbered 0001, 0002, ...
After changing the models (bot/db/models.py, accounts.py, workspace.py, calendars/local.py), generate the next revision
and read it before committing:

    .venv/bin/python -m bot.db.migrate revision -m "add applicant notes"

It autogenerates against a throwaway SQLite database upgraded to the current head, so it
needs no server; then tests/test_migrations.py checks the result on SQLite and PostgreSQL.
"""
from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, pool
from sqlmodel import SQLModel

import bot.db.accounts  # noqa: F401  registers account, sign_in_token, staff_session, audit_entry
import bot.db.models  # noqa: F401  registers applicant, booking, outbox, ...
import bot.db.workspace  # noqa: F401  registers saved_reply, inbox_note, resolved_alert
import calendars.local  # noqa: F401  registers calendar_event

HERE = Path(__file__).resolve().parent


def metadata() -> MetaData:
    """Return the metadata of every table the migrations manage."""
    return SQLModel.metadata


def alembic_config(database_url: str | None = None) -> AlembicConfig:
    """Build the Alembic config for our scripts, wherever the package is installed."""
    cfg = AlembicConfig(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    if database_url:
        # Passed as an attribute, not an ini option: URLs may hold '%' (escaped passwords).
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database up to `revision` (a no-op when it is already there)."""
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> str | None:
    """Return the database's revision, or None when it was never migrated."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def check(database_url: str) -> list:
    """Return the differences between the models and the database ([] when in step)."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # SQLite cannot reflect an expression index (lower(email)): PostgreSQL compares it, SQLite skips it.
            warnings.filterwarnings("ignore", message=".*expression-based index")
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, metadata())
    finally:
        engine.dispose()


def _next_rev_id(cfg: AlembicConfig) -> str:
    numbers = [int(s.revision) for s in ScriptDirectory.from_config(cfg).walk_revisions() if s.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def revision(message: str) -> None:
    """Autogenerate the next numbered revision from the models' difference to head."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'autogenerate.sqlite3'}"
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True, rev_id=_next_rev_id(cfg))


def main(argv: list[str] | None = None) -> None:
    """Developer entry point: `python -m bot.db.migrate revision -m msg`."""
    parser = argparse.ArgumentParser(prog="python -m bot.db.migrate")
    sub = parser.add_subparsers(dest="command", required=True)
    rev = sub.add_parser("revision", help="autogenerate the next revision from the models")
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.command == "revision":
        revision(args.message)


if __name__ == "__main__":
    main()
