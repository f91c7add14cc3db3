"""GET /healthz: 200 when the app and its database answer."""
from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.web.common import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        with services().engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
