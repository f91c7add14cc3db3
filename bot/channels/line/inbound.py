"""One verified LINE webhook event, carried out once: converse, link, apply, or answer politely."""
from __future__ import annotations

import logging
from dataclasses import fields
from datetime import date, datetime, timezone

from sqlmodel import Session, select

from bot.channels.line.cards import content_payload
from bot.channels.line.events import LineEvent, storable
from bot.channels.line.leads import answer, by_code, code_of, lead_of, link, say, start
from bot.core.conversation import State
from bot.core.events import AskedForPerson, Event, MediaReceived, OtherMessage, Unknown, WantSlots
from bot.core.intents import parse_postback, parse_text
from bot.core.messages import format_day
from bot.core.vocab import LIVE_BOOKING, RECRUITER_CHANNEL, AlertReason, OptOutReason
from bot.db.models import Applicant, Booking, Outbox
from bot.service import inbound_log, inbox, optouts, prefetch
from bot.service.availability import prefetch_for
from bot.service.deps import Services
from bot.service.followups import answered, answered_all
from bot.service.outbox import alert, cancel_pending, delivery_channel, enqueue
from bot.service.turn import Turn, converse

log = logging.getLogger("sokuresu.line")
FIELDS = tuple(f.name for f in fields(LineEvent))  # what an inbox item keeps of an event (its values are plain)
MEDIA = {"image", "video", "audio", "file"}
MENU = {"menu:content", "menu:human"}  # rich-menu buttons that are not conversation events
# Event types that need nothing from us (a message was unsent, a video was watched, ...).
QUIET = {"unsend", "videoPlayComplete", "beacon", "accountLink", "membership", "leave", "memberJoined",
         "memberLeft", "things", "activated", "deactivated", "botSuspended", "botResumed", "delivery", "module",
         "messageEdited"}


def reply_to(event: LineEvent) -> dict | None:
    """How to answer this event for free: its reply token and when LINE issued it."""
    if not event.reply_token or event.at is None:
        return None
    return {"token": event.reply_token, "at": event.at.isoformat()}


def conversation_event(svc: Services, event: LineEvent) -> Event | None:
    """The conversation event a text or tap means; None for what the conversation does not cover."""
    today = svc.clock().astimezone(svc.settings.tz).date()
    if event.kind == "postback" and event.data not in MENU:
        parsed = parse_postback(event.data or "", today)
        # A forged or outdated button is not a question for a person: offer the times again.
        return WantSlots() if isinstance(parsed, Unknown) else parsed
    if event.kind == "message" and event.message_type == "text" and event.text:
        return parse_text(event.text, today, channel="line")
    return None


BUTTONS = {"reschedule": "日程を変更", "cancel": "キャンセル", "cancel:yes": "はい、キャンセルします", "keep": "いいえ",
           "confirm": "参加します", "book": "予約する",
           "other": "他の日", "help": "ヘルプ", "skip": "スキップ",
           "menu:content": "会社の紹介", "menu:human": "担当者と話す"}


def shown(svc: Services, event: LineEvent) -> str:
    """What the recruiter's conversation view shows for the candidate's side (a tap in words)."""
    if event.kind != "postback":
        return event.text if event.message_type == "text" else f"[{event.message_type}]"
    data, tz = event.data or "", svc.settings.tz
    kind, _, value = data.partition(":")
    try:
        if kind == "slot":  # key: interviewer@YYYYMMDDTHHMMZ
            start = datetime.strptime(value.rpartition("@")[2], "%Y%m%dT%H%MZ").replace(tzinfo=timezone.utc)
            return f"[ボタン] {format_day(start.astimezone(tz).date(), 'ja')} {start.astimezone(tz):%H:%M}"
        if kind == "date":
            return f"[ボタン] {format_day(date.fromisoformat(value), 'ja')}"
    except ValueError:
        pass
    return f"[ボタン] {BUTTONS.get(data, data)}"


def queue(svc: Services, events: list[LineEvent]) -> int:
    """Keep each new event in the durable inbox, one user's in order, and hand it on; return how many were new."""
    # The webhook event id keeps a redelivery or a retried request from being kept twice.
    return inbox.receive(svc, "line", [
        inbox.Arrival(event.user_id, {"kind": "line_event", "event": {
            **{name: getattr(event, name) for name in FIELDS}, "at": event.at.isoformat() if event.at else None}},
            event.event_id)
        for event in map(storable, events)])


def event_of(payload: dict) -> LineEvent:
    data = dict(payload["event"])
    return LineEvent(**{**data, "at": datetime.fromisoformat(data["at"]) if data.get("at") else None})


def _prefetch(session: Session, svc: Services, payloads: list[dict]) -> list[Applicant]:
    """Lock the batch's applicants in one statement (ordered by LINE user, as every runner does), read
    their live bookings, and cancel the "did you see our message?" nudges of those who wrote."""
    events = [event_of(payload) for payload in payloads]
    users = sorted({e.user_id for e in events if e.source == "user" and e.user_id})
    if not users:
        return []
    found = {a.line_user_id: a for a in session.exec(select(Applicant).where(Applicant.line_user_id.in_(users))
                                                     .order_by(Applicant.line_user_id).with_for_update())}
    prefetch.put(session, "applicant", {user: found.get(user) for user in users})
    optouts.look_up(session, [("line", user) for user in users])  # whether any of them blocked us (usually none)
    ids = {a.id for a in found.values()}
    if not ids:
        return []
    bookings: dict[int, Booking | None] = dict.fromkeys(ids)
    for booking in session.exec(select(Booking).where(Booking.applicant_id.in_(sorted(ids)),
                                                      Booking.status.in_(LIVE_BOOKING)).order_by(Booking.id)):
        bookings[booking.applicant_id] = booking  # the latest live one, as live_booking() picks
    prefetch.put(session, "live_booking", bookings)
    answered_all(session, {found[e.user_id].id for e in events if e.kind in ("message", "postback")
                           and e.source == "user" and e.user_id in found})
    return list(found.values())


def dispatch(session: Session, svc: Services, event: LineEvent) -> None:
    """Carry out one event inside the caller's transaction: the conversation, or a link, or a polite word."""
    if event.source != "user" or not event.user_id:
        return _other(session, svc, event, None)
    applicant = prefetch.take(session, "applicant", event.user_id)
    if applicant is prefetch.MISSING:
        applicant = session.exec(select(Applicant).where(Applicant.line_user_id == event.user_id)
                                 .with_for_update()).first()
    if applicant is not None and (other := _applied_again(session, svc, event, applicant)) is not None:
        return link(session, svc, other, event.user_id, reply_to(event), None)  # a new application of theirs
    wanted = conversation_event(svc, event) if applicant is not None and event.kind in ("message", "postback") else None
    if wanted is not None:  # the ordinary path: log what they said and run the turn
        converse(session, svc, applicant, wanted, text=shown(svc, event)[:2000], source="line",
                 payload={"postback": event.data} if event.data else None, reply_to=reply_to(event))
        return
    _other(session, svc, event, applicant)


def _applied_again(session: Session, svc: Services, event: LineEvent, applicant: Applicant) -> Applicant | None:
    """The person's new web application whose link code they sent; None for anything else they wrote."""
    if event.kind != "message" or event.message_type != "text" or not (code := code_of(event.text or "")):
        return None
    other, locked, _ = by_code(session, svc, event.user_id, code)
    return other if not locked and other is not None and other.id != applicant.id else None


def _run(session: Session, svc: Services, payload: dict) -> None:
    dispatch(session, svc, event_of(payload))


# What the inbox runs for a kept LINE event (bot.service.inbox), in the transaction that marks it done.
def _fetch_ahead(svc: Services, payloads: list[dict]) -> float | None:
    """Before the batch's transaction: the calendar reads of the turns of the applicants who wrote."""
    users = sorted({e.user_id for e in map(event_of, payloads) if e.source == "user" and e.user_id})
    return prefetch_for(svc, Applicant.line_user_id.in_(users)) if users else None


HANDLER = inbox.Handler(run=_run, prefetch=_prefetch, fetch_ahead=_fetch_ahead)


def _other(session: Session, svc: Services, event: LineEvent, applicant: Applicant | None) -> None:
    answer_to = reply_to(event)
    if event.source != "user" or not event.user_id:
        if event.kind == "join":  # invited into a group or room: say once, kindly, that we talk one to one
            say(session, svc, None, "group_reply", answer_to, reply_only=True)
        return  # group and room messages are not for us
    if event.kind == "unfollow":
        return _unfollow(session, svc, applicant, event.user_id)
    if event.kind == "follow":
        optouts.opt_in(session, "line", event.user_id)  # following us again is the way back in on LINE
        if applicant is None:
            return start(session, svc, event.user_id, answer_to)
        applicant.blocked = False  # unblocked us: pick up where they left off
        return Turn(svc, session, applicant, answer_to).run(WantSlots())
    if event.kind in QUIET or (event.kind not in ("message", "postback") and answer_to is None):
        return  # nothing to say, or a new event type that would cost a push to answer
    if applicant is None:
        text = event.text if event.kind == "message" and event.message_type == "text" else None
        return answer(session, svc, event.user_id, text, event.data, answer_to)
    _fixed_answer(session, svc, applicant, event, answer_to)


def _unfollow(session: Session, svc: Services, applicant: Applicant | None, user_id: str) -> None:
    """Blocked: nothing more goes out to them, and the recruiter knows to call instead."""
    if (lead := lead_of(session, user_id)) is not None:
        session.delete(lead)
    # LINE refuses pushes to them now: no application, new or old, pushes to them until they follow again.
    optouts.opt_out(session, "line", user_id, OptOutReason.BLOCKED, svc.clock())
    if applicant is None:
        return
    applicant.blocked, applicant.updated_at = True, svc.clock()
    cancel_pending(session, Outbox.channel != RECRUITER_CHANNEL, applicant_id=applicant.id,
                   why="the candidate blocked the LINE account")
    alert(session, svc, applicant, AlertReason.LINE_BLOCKED)


def _fixed_answer(session: Session, svc: Services, applicant: Applicant, event: LineEvent,
                  answer_to: dict | None) -> None:
    """Stickers, photos, places, menu buttons and unknown kinds: a kind fixed answer, never an error."""
    inbound_log.log_inbound(session, applicant.id, "line", shown(svc, event)[:2000], svc.clock(),
                            {"line_type": event.kind, "message_type": event.message_type})
    applicant.last_inbound_at = svc.clock()
    answered(session, applicant.id)  # a sticker is an answer too: no "did our message reach you?" nudge
    turn = Turn(svc, session, applicant, answer_to)
    if event.data == "menu:content":
        payload = content_payload(svc, applicant.locale, applicant.job_id,
                                  turn.booking.interviewer if turn.booking else None)
        if answer_to:
            payload["reply_to"] = answer_to
        enqueue(session, svc, applicant, payload, channel=delivery_channel(svc, applicant))
    elif event.data == "menu:human":
        turn.run(AskedForPerson())
    elif event.message_type in MEDIA:
        turn.run(MediaReceived(event.message_type))
    elif applicant.state != State.NEEDS_HUMAN:
        # While a person has the conversation there is no turn at all: one would forget a "really cancel?" asked.
        turn.run(OtherMessage(event.message_type or ""))
