"""One verified LINE webhook event, carried out once: converse, link, apply, or answer politely."""
from __future__ import annotations

import atexit
import logging
import os
import secrets
import socket
import threading
import time
from contextlib import nullcontext
from dataclasses import asdict
from datetime import date, datetime, timezone
from functools import cache
from queue import Empty, Queue

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select, update

from bot.service import inbound_log, optouts, prefetch
from bot.service.deps import Services
from bot.channels.line.events import LineEvent
from bot.core.conversation import State
from bot.db.engine import one_statement, retry_on_disconnect, session_scope
from bot.core.events import AskedForPerson, Event, MediaReceived, OtherMessage, Unknown, WantSlots
from bot.core.intents import parse_postback, parse_text
from bot.channels.line.leads import answer, code_of, lead_of, link, say, start
from bot.channels.line.cards import content_payload
from bot.core.messages import format_day
from bot.db.models import Applicant, Booking, Outbox
from bot.service.followups import answered, answered_all
from bot.service.delivery import LEASE, MAX_ATTEMPTS, Prepared, backoff, prepare, release, send_all
from bot.service.outbox import cancel_pending
from bot.service.ratelimit import Limiter
from bot.service.availability import LIVE_STATUSES
from bot.service.turn import CALENDAR_WRITTEN, Turn, converse
from bot.service.outbox import alert, delivery_channel, enqueue

log = logging.getLogger("sokuresu.line")
INBOX = "line-inbox"  # outbox rows that carry a LINE webhook event to its turn (run by run_rows)
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


@cache
def _keep_statement(dialect: str):
    """INSERT ... ON CONFLICT (idempotency_key) DO NOTHING RETURNING, built once per process."""
    table = Outbox.__table__
    insert = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table)
    return insert.on_conflict_do_nothing(index_elements=["idempotency_key"]).returning(
        table.c.id, table.c.provider_message_id)


def queue(svc: Services, events: list[LineEvent]) -> int:
    """Keep each new event durably, in one statement, and hand it on; return how many were new."""
    # LINE recommends answering the webhook at once and working asynchronously. When this process runs
    # an InboxRunner (the web app does), the rows are leased to it as they are written and it runs the
    # turns right after the 200; otherwise, or should this process die, the worker takes them.
    runner, now = svc.inbox, svc.clock()
    values = []
    for event in events:
        payload = {"kind": "line_event", "event": {**asdict(event), "at": event.at.isoformat() if event.at else None}}
        values.append({
            "channel": INBOX, "kind": "line_event", "payload": payload, "due_at": now, "created_at": now,
            # The webhook event id as the row's unique key: a redelivery or a retried request is not kept twice.
            "idempotency_key": f"line:{event.event_id}" if event.event_id else secrets.token_hex(16),
            # The user's tag keeps one user's events in order across runners and workers.
            "provider_message_id": f"u:{event.user_id}" if event.user_id else None,
            **({"status": "sending", "lease_owner": runner.owner, "lease_until": now + LEASE, "attempts": 1}
               if runner is not None else {"status": "pending", "attempts": 0})})
    if not values:
        return 0
    stmt = _keep_statement(svc.engine.dialect.name)

    def write():
        with one_statement(svc.engine) as conn:
            return conn.execute(stmt, values).all()
    new = retry_on_disconnect(write)
    if new:
        if runner is not None:
            runner.submit([(row.id, row.provider_message_id or "") for row in new])
        else:
            svc.wake.set()
    return len(new)


def event_of(payload: dict) -> LineEvent:
    data = dict(payload["event"])
    return LineEvent(**{**data, "at": datetime.fromisoformat(data["at"]) if data.get("at") else None})


class _Redo(Exception):
    """A turn failed in a batch run without savepoints: run the batch again, each turn in its own."""


def process(svc: Services, row_ids: list[int], owner: str) -> tuple[dict[int, str], list[Prepared]]:
    """Run queued events that `owner` holds, in one transaction; return each row's new status (sent,
    waiting, lost, or pending/failed after an error) and the answers to send now.

    Each turn commits together with marking its row done, so an event runs exactly once even when a
    row is taken over after its lease ran out. A turn that fails is undone alone and its row handed
    back with a backoff. The answers the turns wrote that are due now come back leased to `owner`:
    the caller sends them once this has committed, instead of waiting for a worker's poll.
    """
    try:
        return _process(svc, row_ids, owner, careful=False)
    except _Redo:  # rolled back whole; nothing of it happened
        return _process(svc, row_ids, owner, careful=True)


def _process(svc: Services, row_ids: list[int], owner: str, careful: bool) -> tuple[dict[int, str], list[Prepared]]:
    # What the turns need is read up front, one statement per table for the whole batch (bot.service.prefetch),
    # and what they write goes to the database in one flush at the end: a round trip to the database
    # costs more than most of a turn. Savepoints (two more round trips a turn) are taken only when a
    # failing turn must not undo the others: in the second, careful run, or once a turn wrote to a
    # calendar outside the database.
    statuses: dict[int, str] = {}
    answers: list[Outbox] = []
    with session_scope(svc.engine) as session:
        inbound_log.collect(session)  # what candidates said: one INSERT for the batch
        rows = _take_rows(session, row_ids, owner, statuses)
        blocked = _held_elsewhere(session, rows)
        events = {row.id: event_of(row.payload) for row in rows}
        # Kept referenced to the end: the session holds loaded rows weakly, and prepare() reads them again.
        session.info["batch_applicants"] = _prefetch(session, list(events.values()))
        for row in rows:
            tag = row.provider_message_id
            if tag and (tag in blocked and blocked[tag] < row.id):
                statuses[row.id] = "waiting"  # an earlier event of this user is not done yet: keep their order
                continue
            session.info["enqueued"] = []
            guarded = careful or session.info.get(CALENDAR_WRITTEN, False)
            logged = inbound_log.pending_count(session)
            try:
                with (session.begin_nested() if guarded else nullcontext()):
                    dispatch(session, svc, events[row.id])
                    statuses[row.id] = "sent"  # the row is marked done below, with the others
            except Exception as exc:
                if not guarded:
                    raise _Redo from exc
                # Rolled back to the savepoint: nothing of this turn happened.
                inbound_log.forget_since(session, logged)
                log.warning("LINE event row %s failed (%s); it will be retried", row.id, type(exc).__name__)
                statuses[row.id] = _retry(session, svc, row, f"{type(exc).__name__}: {exc}")
            if statuses[row.id] != "sent" and tag:
                blocked.setdefault(tag, row.id)  # the user's later events wait behind this one
                continue
            now = svc.clock()
            for written in session.info["enqueued"]:
                if written.status == "pending" and written.due_at <= now and written.channel in svc.channels:
                    written.status, written.lease_owner, written.lease_until, written.attempts = ("sending", owner,
                                                                                                  now + LEASE, 1)
                    answers.append(written)
        prefetch.clear(session)
        inbound_log.write_pending(session)
        if done := [row_id for row_id, status in statuses.items() if status == "sent"]:
            session.execute(update(Outbox).where(Outbox.id.in_(done)).values(
                status="sent", sent_at=svc.clock(), lease_owner=None, lease_until=None, last_error=None),
                execution_options={"synchronize_session": False})
        session.flush()
        ready = [p for p in (prepare(session, svc, row) for row in answers) if isinstance(p, Prepared)]
    return statuses, ready


def _take_rows(session: Session, row_ids: list[int], owner: str, statuses: dict[int, str]) -> list[Outbox]:
    """Lock the rows; those `owner` no longer holds are lost to it. The rest per user, in arrival order."""
    found = {row.id: row for row in session.exec(select(Outbox).where(Outbox.id.in_(row_ids))
                                                 .order_by(Outbox.id).with_for_update())}
    rows = []
    for row_id in row_ids:
        row = found.get(row_id)
        if row is None or row.status != "sending" or row.lease_owner != owner:
            statuses[row_id] = "lost"  # done already, or taken over after our lease ran out
        else:
            rows.append(row)
    return sorted(rows, key=lambda row: (row.provider_message_id or "", row.id))  # per user, in arrival order


def _held_elsewhere(session: Session, rows: list[Outbox]) -> dict[str, int]:
    """For each user tag of these rows: the first of that user's events not done yet outside this batch."""
    tags = sorted({row.provider_message_id for row in rows if row.provider_message_id})
    if not tags:
        return {}
    query = (select(Outbox.provider_message_id, func.min(Outbox.id))
             .where(Outbox.channel == INBOX, Outbox.provider_message_id.in_(tags),
                    Outbox.status.in_(("pending", "sending")), Outbox.id.not_in([row.id for row in rows]))
             .group_by(Outbox.provider_message_id))
    return dict(session.execute(query).all())


def _prefetch(session: Session, events: list[LineEvent]) -> list[Applicant]:
    """Lock the batch's applicants in one statement (ordered by LINE user, as every runner does), read
    their live bookings, and cancel the "did you see our message?" nudges of those who wrote."""
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
                                                      Booking.status.in_(LIVE_STATUSES)).order_by(Booking.id)):
        bookings[booking.applicant_id] = booking  # the latest live one, as live_booking() picks
    prefetch.put(session, "live_booking", bookings)
    answered_all(session, {found[e.user_id].id for e in events if e.kind in ("message", "postback")
                           and e.source == "user" and e.user_id in found})
    return list(found.values())


def _retry(session: Session, svc: Services, row: Outbox, error: str) -> str:
    row.status = "failed" if row.attempts >= MAX_ATTEMPTS else "pending"
    row.last_error, row.lease_owner, row.lease_until = error[:500], None, None
    row.due_at = svc.clock() + backoff(row.attempts)
    return row.status


def run_rows(svc: Services, row_ids: list[int], owner: str, limiter: Limiter | None = None) -> dict[int, str]:
    """process() held rows, then send the answers they wrote; return each row's new status."""
    statuses, answers = process(svc, row_ids, owner)
    send_all(svc, answers, owner, limiter)
    return statuses


def dispatch(session: Session, svc: Services, event: LineEvent) -> None:
    """Carry out one event inside the caller's transaction: the conversation, or a link, or a polite word."""
    if event.source != "user" or not event.user_id:
        return _other(session, svc, event, None)
    applicant = prefetch.take(session, "applicant", event.user_id)
    if applicant is prefetch.MISSING:
        applicant = session.exec(select(Applicant).where(Applicant.line_user_id == event.user_id)
                                 .with_for_update()).first()
    if applicant is not None and (other := _applied_again(session, event, applicant)) is not None:
        return link(session, svc, other, event.user_id, reply_to(event), None)  # a new application of theirs
    wanted = conversation_event(svc, event) if applicant is not None and event.kind in ("message", "postback") else None
    if wanted is not None:  # the ordinary path: log what they said and run the turn
        converse(session, svc, applicant, wanted, text=shown(svc, event)[:2000], source="line",
                 payload={"postback": event.data} if event.data else None, reply_to=reply_to(event))
        return
    _other(session, svc, event, applicant)


def _applied_again(session: Session, event: LineEvent, applicant: Applicant) -> Applicant | None:
    """The person's new web application whose link code they sent; None for anything else they wrote."""
    if event.kind != "message" or event.message_type != "text" or not (code := code_of(event.text or "")):
        return None
    other = session.exec(select(Applicant).where(Applicant.link_code == code)).first()
    return other if other is not None and other.id != applicant.id else None


class InboxRunner:
    """Runs the LINE events this web process queued, right after its 200: the turns, then the answers.

    Its thread starts on first use (after gunicorn forks). Under load it takes the
    events waiting for it in batches: one transaction for the turns, one for recording the answers,
    whatever the batch size. Rows it cannot finish stay leased to it until the lease runs out, then
    the worker takes them over, so a crash loses nothing.
    """

    BATCH = 32          # events per transaction at most
    RETRY_WAIT = 0.02   # seconds before trying again an event whose user has an earlier one in hand elsewhere
    MAX_WAITS = 250     # then leave it to the worker (about five seconds)

    def __init__(self, svc: Services):
        self.svc = svc
        self.limiter = Limiter(svc.settings.rate_limits)
        # One thread per process: a turn is mostly Python, and more threads only take the GIL from the
        # requests (measured: 4 threads on PostgreSQL ran 20% fewer events end to end than one).
        self._queue: Queue = Queue()
        self._pid: int | None = None
        self._lock = threading.Lock()
        self._owner = (None, "")

    @property
    def owner(self) -> str:
        """This process's name on the rows it holds (worked out again after a fork)."""
        if self._owner[0] != os.getpid():
            self._owner = os.getpid(), f"{socket.gethostname()}:{os.getpid()}:inbox"
        return self._owner[1]

    def submit(self, rows: list[tuple[int, str]]) -> None:
        """Take (row id, LINE user id) pairs that queue() leased to this process."""
        with self._lock:
            if self._pid != os.getpid():  # first use in this process (threads do not survive a fork)
                self._pid = os.getpid()
                atexit.register(self.hand_back)
                threading.Thread(target=self._run, name="sokuresu-line-inbox", daemon=True).start()
        for row_id, user in rows:
            self._queue.put((row_id, user, 0))

    def hand_back(self) -> int:
        """At exit (gunicorn stopping this process): give the events not started yet to the worker now,
        rather than when their leases run out, so their answers can still use the reply tokens."""
        ids = []
        while True:
            try:
                ids.append(self._queue.get_nowait()[0])
            except Empty:
                break
        try:
            return release(self.svc, ids, self.owner) if ids else 0
        except Exception as exc:  # the database is away: the leases will do it
            log.warning("LINE inbox runner: could not hand back %d events (%s)", len(ids), type(exc).__name__)
            return 0

    def _run(self) -> None:
        owner, later = self.owner, []  # later: (when, row id, user, waits so far)
        while True:
            batch = []
            try:
                batch.append(self._queue.get(timeout=self.RETRY_WAIT if later else None))
                while len(batch) < self.BATCH:
                    batch.append(self._queue.get_nowait())
            except Empty:
                pass
            now = time.monotonic()
            for item in [item for item in later if item[0] <= now][: self.BATCH]:
                later.remove(item)
                batch.append(item[1:])
            if batch:
                self._run_batch(owner, batch, later)

    def _run_batch(self, owner: str, batch: list[tuple[int, str, int]], later: list) -> None:
        # Ordered by user, then by arrival: every runner locks applicants in the same order (no
        # deadlock between two web processes), and one user's events keep their order.
        batch.sort(key=lambda item: (item[1], item[0]))
        try:
            statuses = retry_on_disconnect(
                lambda: run_rows(self.svc, [row_id for row_id, _, _ in batch], owner, self.limiter))
        except Exception as exc:  # the database is away: the leases bring the rows to the worker later
            log.warning("LINE inbox runner: %d events left to the worker (%s)", len(batch), type(exc).__name__)
            return
        for row_id, user, waits in batch:
            if statuses.get(row_id) != "waiting":
                continue
            if waits < self.MAX_WAITS:
                later.append((time.monotonic() + self.RETRY_WAIT, row_id, user, waits + 1))
            else:
                release(self.svc, [row_id], owner, self.svc.clock())


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
    optouts.opt_out(session, "line", user_id, optouts.Reason.BLOCKED, svc.clock())
    if applicant is None:
        return
    applicant.blocked, applicant.updated_at = True, svc.clock()
    cancel_pending(session, Outbox.channel != "recruiter", applicant_id=applicant.id,
                   why="the candidate blocked the LINE account")
    alert(session, svc, applicant, "line_blocked")


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
