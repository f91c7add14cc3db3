"""Twilio webhooks: inbound SMS and delivery reports, both signed with X-Twilio-Signature."""
from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, Response, abort, request
from sqlmodel import select

from bot.channels.sms.adapter import twiml, valid_signature
from bot.core.conversation import State
from bot.core.events import Event, Help, Start, Stop
from bot.core.intents import CARRIER_START_WORDS, CARRIER_STOP_WORDS, normalise, parse_text
from bot.core.messages import phone_for
from bot.core.vocab import Kind
from bot.db.engine import session_scope
from bot.db.models import Applicant, Outbox
from bot.service.delivery_reports import record_status
from bot.service.intake import normalise_phone
from bot.service.outbox import cancel_pending
from bot.service.turn import handle, is_duplicate
from bot.web.common import services

bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")
log = logging.getLogger("sokuresu.twilio")
UNKNOWN_REPLY = ("{company}です。この番号からのご応募が見つかりませんでした。"
                 "お手数ですが {phone} までご連絡ください。\n"
                 "We could not find your application. Please call {phone}.")


def _verify() -> None:
    """Refuse (403, nothing stored) any request Twilio did not sign for our public URL."""
    config = services().config
    # Behind a TLS-terminating proxy request.url is http://internal…; Twilio signed the public URL.
    url = config.public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode()
    if not config.twilio_auth_token or not valid_signature(
            config.twilio_auth_token, url, request.form, request.headers.get("X-Twilio-Signature", ""),
            request.headers.get("X-Twilio-Webhooks-Signature-Settings")):
        abort(403, "the X-Twilio-Signature does not match")


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def inbound_event(form, today) -> tuple[Event, bool]:
    """The conversation event for an SMS, and whether Twilio itself acted on it as an opt-out keyword."""
    kind = (form.get("OptOutType") or "").upper()  # set when Advanced Opt-Out matched a keyword
    if kind == "STOP":
        return Stop(), True
    if kind == "START":
        return Start(), False
    if kind == "HELP":
        return Help(), False
    word = normalise(form.get("Body", ""))
    if word in CARRIER_STOP_WORDS:
        return Stop(), True
    if word in CARRIER_START_WORDS:
        return Start(), False
    return parse_text(form.get("Body", ""), today, channel="sms"), False


def _applicant_id(session, phone: str) -> int | None:
    try:
        phone = normalise_phone(phone)
    except ValueError:
        return None
    # The latest application from this number that talks with us: one kept without a greeting (the person applied
    # again the day they were greeted, bot.service.intake) leaves their replies to the conversation under way.
    query = select(Applicant.id).where(Applicant.phone == phone)
    return session.exec(query.order_by(Applicant.state == State.NEW, Applicant.id.desc())).first()


@bp.post("/sms")
def inbound():
    """Take one inbound SMS; answers go through the outbox, so TwiML stays empty for known candidates."""
    _verify()
    form, svc = request.form, services()
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid or len(sid) > 64:
        abort(400, "MessageSid is missing")
    with session_scope(svc.engine) as session:
        applicant_id = _applicant_id(session, form.get("From", ""))
    today = svc.clock().astimezone(svc.settings.tz).date()
    event, by_carrier = inbound_event(form, today)
    if applicant_id is None:
        return _xml(twiml(_unknown_sender(svc, sid, form.get("From", ""), event)))
    body = form.get("Body", "")[:2000]
    # After a carrier STOP Twilio has already answered; the flag keeps our acknowledgement from being sent.
    decision = handle(svc, applicant_id, event, text=body, source="sms", event_id=sid, payload={"message_sid": sid},
                      reply_to={"carrier_confirmed": True} if by_carrier else None)
    if decision is not None and by_carrier:
        _carrier_confirmed(svc, applicant_id)
    return _xml(twiml())


def _unknown_sender(svc, sid: str, phone: str, event: Event) -> str | None:
    """An immediate answer to a number we do not know: once per number, never to an opt-out word."""
    with session_scope(svc.engine) as session:
        if is_duplicate(session, "sms", sid, svc.clock()):
            return None
        # Only a hash of the number is kept, and only to avoid answering the same stranger twice.
        seen = is_duplicate(session, "sms-unknown", hashlib.sha256(phone.encode()).hexdigest()[:40], svc.clock())
    if seen or isinstance(event, (Stop, Start)):
        return None
    company = svc.settings.company
    return UNKNOWN_REPLY.format(company=company.name.ja, phone=phone_for(company.phone, phone, "ja"))


def _carrier_confirmed(svc, applicant_id: int) -> None:
    """Twilio answers STOP itself and refuses anything after it (21610): our own acknowledgement stays unsent."""
    with session_scope(svc.engine) as session:
        cancel_pending(session, Outbox.channel == "sms", Outbox.kind == Kind.STOPPED, applicant_id=applicant_id,
                       why="Twilio confirmed the STOP itself")


@bp.post("/status")
def status():
    """Record a delivery report (sent, delivered, undelivered, failed) on its outbox row."""
    _verify()
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    state = (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    if not sid or not state:
        abort(400, "MessageSid and MessageStatus are required")
    # The row our send named in the callback URL (Twilio signs the URL with its query, so it is ours).
    row = request.args.get("row", "")
    row_id = int(row) if row.isascii() and row.isdigit() and len(row) < 19 else None
    if not record_status(services(), sid, state, form.get("ErrorCode") or None, row_id):
        log.info("delivery report for a message we do not know (%s)", state)
    return Response(status=204)
