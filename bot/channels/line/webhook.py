"""POST /webhooks/line: check the signature on the raw body, queue each new event for the worker, answer 200."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from bot.channels.line.inbound import queue
from bot.web.common import services

bp = Blueprint("line", __name__)


@bp.post("/webhooks/line")
def webhook():
    svc = services()
    if not svc.config.line_enabled:
        abort(404, "the LINE channel is not configured")
    from bot.channels.line.adapter import BadWebhook, parse_webhook  # linebot loads only where LINE is on

    body = request.get_data(as_text=True)
    try:
        events = parse_webhook(svc.config.line_channel_secret, body, request.headers.get("X-Line-Signature"))
    except BadWebhook as exc:
        abort(400, str(exc))  # before anything is stored or sent
    # Stored durably (and de-duplicated) before the 200; the worker runs the turns. A database error
    # answers 500, so LINE's redelivery (when switched on) brings the events again.
    queue(svc, events)
    return jsonify(ok=True)
