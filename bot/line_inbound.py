"""One verified LINE webhook event, carried out once: converse, link, apply, or answer politely."""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import asdict
from datetime import date, datetime, timezone
from queue import Empty, Queue

from sqlmodel import Session, select, update

from bot.bootstrap import Services
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
from bot.outbox import INBOX, LEASE, deliver, release, retry_later
from bot.ratelimit import Limiter
from bot.service import Turn, converse, delivery_channel, enqueue, is_duplicate

log = logging.getLogger("sokuresu.line")
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
    """Keep each new event durably, in one transaction, and hand it on; return how many were new."""
    # LINE recommends answering the webhook at once and working asynchronously. When this process runs
    # an InboxRunner (the web app does), the rows are leased to it as they are written and it runs the
    # turns right after the 200; otherwise, or should this process die, the worker takes them.
    runner, now = svc.inbox, svc.clock()
    rows = []
    with session_scope(svc.engine) as session:
        for event in events:
            if event.event_id and is_duplicate(session, "line", event.event_id):
                continue  # a redelivery or a retried request: already queued once
            payload = {"kind": "line_event", "event": {**asdict(event), "at": event.at.isoformat() if event.at else None}}
            # The user's tag lets the worker keep one user's events in order across several workers.
            row = Outbox(channel=INBOX, kind="line_event", payload=payload, due_at=now,
                         provider_message_id=f"u:{event.user_id}" if event.user_id else None)
            if runner is not None:
                row.status, row.lease_owner, row.lease_until, row.attempts = "sending", runner.owner, now + LEASE, 1
            session.add(row)
            rows.append(row)
    if rows:
        if runner is not None:
            runner.submit([row.id for row in rows])
        else:
            svc.wake.set()
    return len(rows)


def event_of(payload: dict) -> LineEvent:
    data = dict(payload["event"])
    return LineEvent(**{**data, "at": datetime.fromisoformat(data["at"]) if data.get("at") else None})


def process(svc: Services, row_id: int, owner: str) -> tuple[str, list[int]]:
    """Run one queued event that `owner` holds; return (sent | waiting | lost, the answers to send now).

    The turn and marking the row done commit in one transaction, so an event runs exactly once even
    when a row is taken over after its lease ran out. The answers this turn wrote that are due now
    come back leased to `owner`: the caller sends them at once instead of waiting for a worker's poll.
    """
    with session_scope(svc.engine) as session:
        row = session.get(Outbox, row_id, with_for_update=True)
        if row is None or row.status != "sending" or row.lease_owner != owner:
            return "lost", []  # done already, or taken over after our lease ran out
        if row.provider_message_id and session.exec(select(Outbox.id).where(
                Outbox.channel == INBOX, Outbox.provider_message_id == row.provider_message_id,
                Outbox.status.in_(("pending", "sending")), Outbox.id < row.id)).first() is not None:
            return "waiting", []  # an earlier event of this user is not done yet: keep their order
        dispatch(session, svc, event_of(row.payload))
        now = svc.clock()
        row.status, row.sent_at, row.lease_owner, row.lease_until, row.last_error = "sent", now, None, None, None
        answers = [r for r in session.info.get("enqueued", ())
                   if r.status == "pending" and r.due_at <= now and r.channel in svc.channels]
        for answer in answers:
            answer.status, answer.lease_owner, answer.lease_until, answer.attempts = "sending", owner, now + LEASE, 1
    return "sent", [answer.id for answer in answers]


def run_row(svc: Services, row_id: int, owner: str, limiter: Limiter | None = None) -> str:
    """process() one held row, then send its answers; a failure hands the row back for a later retry."""
    try:
        status, answers = process(svc, row_id, owner)
    except Exception as exc:  # the transaction rolled back: nothing of the turn happened
        log.warning("LINE event row %s failed (%s); it will be retried", row_id, type(exc).__name__)
        return retry_later(svc, row_id, owner, f"{type(exc).__name__}: {exc}")
    for answer in answers:
        deliver(svc, answer, owner, limiter)
    return status


def dispatch(session: Session, svc: Services, event: LineEvent) -> None:
    """Carry out one event inside the caller's transaction: the conversation, or a link, or a polite word."""
    if event.source == "user" and event.user_id and event.kind in ("message", "postback"):
        applicant = session.exec(select(Applicant).where(Applicant.line_user_id == event.user_id)
                                 .with_for_update()).first()
        wanted = conversation_event(svc, event) if applicant is not None else None
        if wanted is not None:  # the ordinary path: log what they said and run the turn
            converse(session, svc, applicant, wanted, text=shown(svc, event)[:2000], source="line",
                     payload={"postback": event.data} if event.data else None, reply_to=reply_to(event))
            return
    _other(session, svc, event)


class InboxRunner:
    """Runs the LINE events this web process queued, right after its 200: the turn, then the answer.

    One thread per process, started on first use (after gunicorn forks). Rows it cannot finish stay
    leased to it until the lease runs out, then the worker takes them over, so a crash loses nothing.
    """

    RETRY_WAIT = 0.02   # seconds before trying again an event whose user has an earlier one in hand elsewhere
    MAX_WAITS = 250     # then leave it to the worker (about five seconds)

    def __init__(self, svc: Services):
        self.svc = svc
        self.limiter = Limiter(svc.settings.rate_limits)
        self._queue: Queue = Queue()
        self._pid: int | None = None
        self._lock = threading.Lock()

    @property
    def owner(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}:inbox"

    def submit(self, ids: list[int]) -> None:
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (threads do not survive a fork)
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="sokuresu-line-inbox", daemon=True).start()
        for row_id in ids:
            self._queue.put((row_id, 0))

    def _run(self) -> None:
        owner, later = self.owner, []  # later: (when, row id, waits so far)
        while True:
            try:
                row_id, waits = self._queue.get(timeout=self.RETRY_WAIT if later else None)
            except Empty:
                row_id = None
            if row_id is not None:
                self._one(owner, row_id, waits, later)
            due = [item for item in later if item[0] <= time.monotonic()]
            for item in due:
                later.remove(item)
                self._one(owner, item[1], item[2], later)

    def _one(self, owner: str, row_id: int, waits: int, later: list) -> None:
        try:
            status = run_row(self.svc, row_id, owner, self.limiter)
            if status == "waiting":
                if waits < self.MAX_WAITS:
                    later.append((time.monotonic() + self.RETRY_WAIT, row_id, waits + 1))
                else:
                    release(self.svc, [row_id], owner, self.svc.clock())
        except Exception as exc:  # the database is away: the lease brings the row to the worker later
            log.warning("LINE inbox runner: row %s left to the worker (%s)", row_id, type(exc).__name__)


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
