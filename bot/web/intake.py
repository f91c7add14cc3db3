"""POST /api/applications: JSON intake from a job board, ATS or form."""
from __future__ import annotations

import hmac

from flask import Blueprint, abort, jsonify, request

from bot.service.intake import ApplicationInvalid, check, submit
from bot.web.common import services

bp = Blueprint("intake", __name__)


def applicant_json(svc, applicant, created: bool) -> dict:
    body = {"id": applicant.id, "created": created, "state": applicant.state, "channel": applicant.channel}
    if applicant.link_code:
        body["line_link_code"] = applicant.link_code
        basic_id = svc.settings.line_basic_id
        if basic_id:
            body["line_add_friend_url"] = f"https://line.me/R/ti/p/{basic_id}"
    return body


@bp.post("/api/applications")
def create_application():
    svc = services()
    key = svc.config.intake_api_key
    given = request.headers.get("Authorization", "")
    if not key or not hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
        abort(401, "a valid 'Authorization: Bearer <INTAKE_API_KEY>' header is required")
    data = request.get_json(silent=True)
    if data is None:
        return jsonify(error="Unprocessable Entity", errors={"body": "must be a JSON object"}), 422
    try:
        application = check(svc, data, entry="api", client=request.remote_addr)
        applicant, created = submit(svc, application)
    except ApplicationInvalid as exc:
        return jsonify(error="Unprocessable Entity", errors=exc.errors), 422
    # A replayed external_id answers like the first call did (same id, 201), flagged as a replay.
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return jsonify(applicant_json(svc, applicant, created)), 201, headers
