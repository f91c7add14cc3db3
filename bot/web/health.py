"""GET /healthz: 200 when the app can write to its database, 503 with the reason otherwise."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.web.common import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    # A write, rolled back: a read-only database (a SQLite file the process cannot write, a PostgreSQL
    # replica) answers SELECT 1 but would lose every application posted to it.
    try:
        with services().engine.connect() as conn:
            with conn.begin() as tx:
                conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
                tx.rollback()
    except SQLAlchemyError as exc:
        problem = "read-only" if "read-only" in str(exc) or "readonly" in str(exc) else "unreachable"
        return jsonify(status="error", database=problem), 503
    return jsonify(status="ok", database="ok")
