"""Alembic environment: Sokuresu's tables, the URL handed in by bot.db.migrate (or -x url=)."""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from bot.db.migrate import metadata

config = context.config
target_metadata = metadata()


def _url() -> str:
    """Return the database URL: from bot.db.migrate, `-x url=...`, sqlalchemy.url, or the env."""
    url = config.attributes.get("database_url") or context.get_x_argument(as_dictionary=True).get("url")
    url = url or config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.config import Config

        url = Config.from_env().database_url
    return url


def render_item(type_, obj, autogen_context):
    """Render our own column types (UTCDateTime, sqlmodel's AutoString) with their import."""
    if type_ == "type":
        module = type(obj).__module__
        if not module.startswith("sqlalchemy."):
            autogen_context.imports.add(f"import {module}")
            return f"{module}.{obj!r}"
    return False  # alembic's default rendering


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_item=render_item,
        compare_type=True,
        **kwargs,
    )


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade --sql`) instead of running it."""
    url = _url()
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on a connection (one handed in, or a fresh one to the URL)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_on(connection)
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run_on(connection)
    finally:
        engine.dispose()


def _run_on(connection) -> None:
    # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
