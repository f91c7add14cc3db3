"""GET /api/openapi.yaml: the intake API's OpenAPI document, for job boards and ATSs that post to it."""
from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("apidoc", __name__)

# docs/openapi.yaml, copied into static/ so an installed package serves it too (tests/web/test_openapi.py checks
# that the two are the same).
DOCUMENT = "openapi.yaml"


@bp.get("/api/openapi.yaml")
def openapi():
    return send_from_directory(current_app.static_folder, DOCUMENT, mimetype="application/yaml", max_age=300)
