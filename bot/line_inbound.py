"""One verified LINE webhook event, carried out once: converse, link, apply, or answer politely."""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date, datetime, timezone

from sqlmodel import Session, select, update

from bot.bootstrap import Services
from bot.channels import Outgoing, TemporaryError
from bot.channels.line import LineEvent
from bot.conversation import State
from bot.db import session_scope
from bot.events import AlertRecruiter, Decision, Event, Send, Unknown, WantSlots
from bot.intents import parse_postback, parse_text
from bot.line_leads import answer, lead_of, say, start
from bot.line_payload import content_payload
from bot.messages import format_day
from bot.models import Applicant, MessageLog, Outbox
from bot.nudges import answered
from bot.service import Turn, delivery_channel, enqueue, handle, is_duplicate

INBOX = "line-inbox"  # outbox rows that carry a webhook event to the worker
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
        return parse_text(event.text, today)
    return None


BUTTONS = {"reschedule": "日程を変更", "cancel": "キャンセル", "confirm": "参加します", "book": "予約する",
           "other": "他の日", "help": "ヘルプ", "skip": "スキップ", "menu:content": "会社の紹介", "menu:human": "担当者と話す"}


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
    """Keep each new event durably for the worker, in one transaction; return how many were new."""
    # LINE recommends answering the webhook at once and working asynchronously: the turn (calendar,
    # booking, reply) runs in the worker, which picks these rows up like any outbox row.
    new = 0
    with session_scope(svc.engine) as session:
        for event in events:
            if event.event_id and is_duplicate(session, "line", event.event_id):
                continue  # a redelivery or a retried request: already queued once
            payload = {"kind": "line_event", "event": {**asdict(event), "at": event.at.isoformat() if event.at else None}}
            # The user's tag lets the worker keep one user's events in order across several workers.
            session.add(Outbox(channel=INBOX, kind="line_event", payload=payload, due_at=svc.clock(),
                               provider_message_id=f"u:{event.user_id}" if event.user_id else None))
            new += 1
    if new:
        svc.wake.set()
    return new


class LineInbox:
    """The worker's side of the queue: run one queued webhook event (exactly once, in order per user)."""

    def __init__(self, svc: Services):
        self.svc = svc

    def send(self, message: Outgoing) -> str | None:
        data = dict(message.payload["event"])
        event = LineEvent(**{**data, "at": datetime.fromisoformat(data["at"]) if data.get("at") else None})
        row_id = message.meta.get("outbox_id")
        if event.user_id and row_id:
            with session_scope(self.svc.engine) as session:
                earlier = session.exec(select(Outbox.id).where(
                    Outbox.channel == INBOX, Outbox.provider_message_id == f"u:{event.user_id}",
                    Outbox.status.in_(("pending", "sending")), Outbox.id < row_id)).first()
            if earlier is not None:
                raise TemporaryError("an earlier event of this LINE user is not processed yet")
        # Its own de-dup key: a row taken over after a crash must not run the turn a second time.
        dispatch(self.svc, replace(event, event_id=f"p:{event.event_id or row_id}"))
        return None


def dispatch(svc: Services, event: LineEvent) -> None:
    """Carry out one event in one transaction; a redelivered event id changes nothing."""
    if event.source == "user" and event.user_id and event.kind in ("message", "postback"):
        with session_scope(svc.engine) as session:
            linked = session.exec(select(Applicant.id).where(Applicant.line_user_id == event.user_id)).first()
        wanted = conversation_event(svc, event) if linked is not None else None
        if wanted is not None:  # the ordinary path: the service logs, de-duplicates and runs the turn
            handle(svc, linked, wanted, text=shown(svc, event)[:2000], source="line", event_id=event.event_id,
                   payload={"postback": event.data} if event.data else None, reply_to=reply_to(event))
            return
    with session_scope(svc.engine) as session:
        if event.event_id and is_duplicate(session, "line", event.event_id):
            return
        _other(session, svc, event)
    svc.wake.set()


def _other(session: Session, svc: Services, event: LineEvent) -> None:
    answer_to = reply_to(event)
    if event.source != "user" or not event.user_id:
        if event.kind == "join":  # invited into a group or room: say once, kindly, that we talk one to one
            say(session, svc, None, "group_reply", answer_to, reply_only=True)
        return  # group and room messages are not for us
    applicant = session.exec(select(Applicant).where(Applicant.line_user_id == event.user_id)
                             .with_for_update()).first()
    if event.kind == "unfollow":
        return _unfollow(session, svc, applicant, event.user_id)
    if event.kind == "follow":
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
    if applicant is None:
        return
    applicant.blocked, applicant.updated_at = True, svc.clock()
    session.execute(update(Outbox).where(Outbox.applicant_id == applicant.id, Outbox.status == "pending",
                                         Outbox.channel != "recruiter")
                    .values(status="cancelled", last_error="the candidate blocked the LINE account"))
    enqueue(session, svc, applicant, {"kind": "alert", "reason": "line_blocked", "detail": "",
                                      "text": "line_blocked"}, channel="recruiter")


def _fixed_answer(session: Session, svc: Services, applicant: Applicant, event: LineEvent,
                  answer_to: dict | None) -> None:
    """Stickers, photos, places, menu buttons and unknown kinds: a kind fixed answer, never an error."""
    session.add(MessageLog(applicant_id=applicant.id, direction="in", channel="line", text=shown(svc, event)[:2000],
                           payload={"line_type": event.kind, "message_type": event.message_type}))
    applicant.last_inbound_at = svc.clock()
    answered(session, applicant.id)  # a sticker is an answer too: no "did our message reach you?" nudge
    turn, state = Turn(svc, session, applicant, answer_to), State(applicant.state)
    quiet = state is State.NEEDS_HUMAN  # a person has the conversation: the bot stays out of the way
    if event.data == "menu:content":
        payload = content_payload(svc, applicant.locale)
        if answer_to:
            payload["reply_to"] = answer_to
        enqueue(session, svc, applicant, payload, channel=delivery_channel(svc, applicant))
    elif event.data == "menu:human":
        turn.apply(Decision(State.NEEDS_HUMAN, (Send("human_requested"), AlertRecruiter("asked_for_person"))))
    elif event.message_type in MEDIA:
        sends = () if quiet else (Send("media_reply"),)
        turn.apply(Decision(state, (*sends, AlertRecruiter("media_received", event.message_type))))
    elif not quiet:
        turn.apply(Decision(state, (Send("sticker_reply" if event.message_type == "sticker" else "unsupported_reply"),)))
