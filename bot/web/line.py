"""POST /webhooks/line: check the signature on the raw body, carry out each event, answer 200 quickly."""
from __future__ import annotations

import logging

from flask import Blueprint, abort, jsonify, request

from bot.web.common import services

bp = Blueprint("line", __name__)
log = logging.getLogger("sokuresu.line")


@bp.post("/webhooks/line")
def webhook():
    svc = services()
    if not svc.config.line_enabled:
        abort(404, "the LINE channel is not configured")
    from bot.channels.line import BadWebhook, parse_webhook  # linebot loads only where LINE is on
    from bot.line_inbound import dispatch

    body = request.get_data(as_text=True)
    try:
        events = parse_webhook(svc.config.line_channel_secret, body, request.headers.get("X-Line-Signature"))
    except BadWebhook as exc:
        abort(400, str(exc))  # before anything is stored or sent
    failed = 0
    for event in events:
        try:
            dispatch(svc, event)
        except Exception:  # one bad event must not lose the others; its id was not stored, so a redelivery retries it
            failed += 1
            log.exception("LINE event %s (%s) failed", event.event_id, event.kind)
    if failed:
        return jsonify(error="Internal Server Error", reason=f"{failed} of {len(events)} events failed"), 500
    return jsonify(ok=True)
