"""The sandbox chat: a person plays the candidate in the browser (demo, or a channel that is off)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Blueprint, abort, jsonify, make_response, render_template, request
from sqlmodel import select

from bot.core.intents import parse_postback, parse_text
from bot.core.vocab import Direction
from bot.db.engine import session_scope
from bot.db.models import Applicant, MessageLog
from bot.service.candidate_page import OPEN_WITHOUT_BOOKING, view
from bot.service.turn import handle
from bot.web.common import locale, services
from bot.web.headers import CSP
from bot.web.pagetexts import PAGE

bp = Blueprint("sandbox", __name__)
# The page's own words: the message list's name for screen readers and what each kind of content card opens.
WORDS = {"ja": {"log": "メッセージ", "contents": "動画と記事", "video": "動画", "article": "記事",
                "message": "メッセージ"},
         "en": {"log": "Messages", "contents": "Videos and articles", "video": "Video", "article": "Article",
                "message": "Message"}}


def _applicant(session, token: str) -> Applicant:
    """The chat's candidate: only one who talks to us here, and only while their page would be open.

    A candidate on SMS, LINE or e-mail has no chat, so their token opens nothing here (a token seen in a log or
    a forwarded link must not read or cancel their interview). A chat closes once nothing has happened in it,
    nor is an interview ahead, for as long as a candidate page stays open."""
    svc = services()
    applicant = session.exec(select(Applicant).where(Applicant.token == token)).first()
    if applicant is None or svc.enabled(applicant.channel):
        abort(404, "no such chat")
    booking = view(session, applicant).booking
    last = max(applicant.created_at, applicant.updated_at, booking.end_at if booking else applicant.created_at)
    if svc.clock() >= last + OPEN_WITHOUT_BOOKING:
        abort(410, "this chat has closed")
    return applicant


@bp.get("/chat/<token>")
def page(token: str):
    svc = services()
    with session_scope(svc.engine) as session:
        applicant = _applicant(session, token)
    loc = request.args.get("lang") or applicant.locale
    loc = loc if loc in PAGE else locale()
    res = make_response(render_template("chat.html", t=PAGE[loc], w=WORDS.get(loc, WORDS["ja"]), loc=loc,
                                        token=token, company=svc.settings.company.name.get(loc)))
    res.headers["Content-Security-Policy"] = chat_csp(svc.settings)
    return res


def chat_csp(settings) -> str:
    """The site's policy with images only from us and the hosts of the configured thumbnails.

    The chat is the one page that shows images from elsewhere (the content cards' thumbnails, https only, as on
    LINE). Naming the hosts from the settings, rather than any https: origin, keeps a link a candidate or a
    recruiter wrote from loading a tracking pixel in the page, and the list is known when the app starts. data:
    stays for the page's empty favicon (base.html), which img-src governs too."""
    hosts = sorted({f"https://{urlsplit(c.thumbnail).netloc}" for c in settings.content
                    if c.thumbnail and c.thumbnail.startswith("https://") and urlsplit(c.thumbnail).netloc})
    return re.sub(r"img-src [^;]*", "img-src " + " ".join(["'self'", *hosts, "data:"]), CSP)


@bp.get("/chat/<token>/messages")
def messages(token: str):
    after = request.args.get("after", "0")
    if not (after.isascii() and after.isdigit() and len(after) <= 18):  # "²".isdigit(), and SQL's 64-bit ids
        abort(400, "'after' must be a message id (a whole number)")
    svc = services()
    with session_scope(svc.engine) as session:
        return jsonify(conversation(session, _applicant(session, token), int(after)))


def conversation(session, applicant: Applicant, after: int = 0) -> dict:
    """The chat's state and its messages after the id `after`, as the page reads them."""
    rows = session.exec(select(MessageLog).where(MessageLog.applicant_id == applicant.id,
                                                 MessageLog.id > after).order_by(MessageLog.id)).all()
    return {"state": applicant.state, "messages": [
        {"id": m.id, "direction": m.direction, "text": m.text, "buttons": m.payload.get("buttons", []),
         "links": m.payload.get("links", []), "parts": m.payload.get("parts") if m.direction == Direction.OUT else None,
         "at": m.created_at.isoformat()} for m in rows]}


@bp.post("/chat/<token>/say")
def say(token: str):
    """Take the candidate's text or button tap; the answer arrives through the outbox."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "send a JSON object with 'text' or 'postback'")
    text, postback, event_id = data.get("text"), data.get("postback"), data.get("id")
    if any(value is not None and not isinstance(value, str) for value in (text, postback)):
        abort(400, "'text' and 'postback' must be strings")  # a list as postback beside a text was a 500 (fuzzing)
    if not (text and text.strip()) and not postback:
        abort(400, "send a non-empty 'text' or a 'postback'")
    if event_id is not None and (not isinstance(event_id, str) or len(event_id) > 64):
        abort(400, "'id' must be a string of at most 64 characters")
    if isinstance(text, str) and len(text) > 2000:
        abort(400, "a message can be at most 2000 characters")
    if any("\x00" in value for value in (text, postback, data.get("label")) if isinstance(value, str)):
        abort(400, "a message cannot contain NUL characters")
    svc = services()
    with session_scope(svc.engine) as session:
        applicant_id = _applicant(session, token).id
    label = data.get("label") if isinstance(data.get("label"), str) else None
    decision = said(svc, applicant_id, token, text=text, postback=postback, label=label, event_id=event_id)
    return jsonify(accepted=decision is not None, state=decision.state if decision else None), 202


def said(svc, applicant_id: int, token: str, *, text: str | None = None, postback: str | None = None,
         label: str | None = None, event_id: str | None = None):
    """Run the turn for what the candidate typed or tapped in the chat (checked by the caller)."""
    today = svc.clock().astimezone(svc.settings.tz).date()
    if postback:
        event, shown = parse_postback(postback, today), (label or postback)[:200]
    else:
        event, shown = parse_text(text, today, channel="sandbox"), text.strip()
    return handle(svc, applicant_id, event, text=shown, source="sandbox",
                  event_id=f"{token}:{event_id}" if event_id else None,
                  payload={"postback": postback} if postback else None)
