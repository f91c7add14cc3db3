"""Follow-up rows: write reminders and nudges into the outbox, and decide at send time whether each still applies."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlmodel import Session

from bot.core.messages import Recipient, format_slot
from bot.core.reminders import Planned, booking_reminders, greeting_nudges, is_quiet, next_allowed
from bot.core.signing import mac_hex
from bot.core.texts import RECRUITER
from bot.core.vocab import LIVE_BOOKING, RECRUITER_CHANNEL, BookingStatus, KeyPurpose, Kind, OutboxStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, Outbox
from bot.service import optouts, prefetch
from bot.service.deps import Services
from bot.service.outbox import cancel_pending, enqueue
from bot.service.people import answered_since, nudged_unanswered
from calendars.base import Slot

log = logging.getLogger("sokuresu.nudges")
REMINDERS = (Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SOON)
UNCONFIRMED = (Kind.UNCONFIRMED_NUDGE, Kind.UNCONFIRMED_ALERT)
NO_REPLY = (Kind.NUDGE, Kind.UNREACHABLE)
OUTCOME = Kind.OUTCOME_REQUEST  # after the interview: ask the recruiter to mark attended or no-show
FOLLOW_UPS = (*REMINDERS, *UNCONFIRMED, *NO_REPLY, OUTCOME)
OUTCOME_AFTER = timedelta(minutes=30)


def contact_channels(svc: Services, applicant: Applicant, session: Session) -> list[str]:
    """The channel messages go by first (bot.service.optouts), then every other one we can reach them on;
    none whose address opted out, and none at all when every one did."""
    first = optouts.channel_for(session, svc, applicant)
    if first is None:
        return []
    out = optouts.stopped(session, svc, applicant)
    return [first, *(info.name for info in svc.addressed()
                     if info.address(applicant) and info.name != first and info.name not in out
                     and svc.enabled(info.name))]


def _alert(reason: str, applicant: Applicant, **fields) -> dict:
    wording = reason
    if reason == "unconfirmed" and not applicant.phone:  # no number to call: ask for an e-mail instead
        wording, fields = "unconfirmed_no_phone", {**fields, "email": applicant.email or "-"}
    text = RECRUITER[wording].format(name=applicant.name, id=applicant.id, **fields)
    kind = {"unconfirmed": "unconfirmed_alert", "outcome": OUTCOME}.get(reason, reason)
    # The recruiter page shows `detail`: the whole note, but only the time for the link-carrying outcome mail.
    return {"kind": kind, "reason": reason, "detail": fields["when"] if reason == "outcome" else text, "text": text}


def _write(session: Session, svc: Services, applicant: Applicant, plan: list[Planned], payload_for,
           booking_id: int | None = None) -> list[Outbox]:
    return [enqueue(session, svc, applicant, payload_for(p), channel=p.channel, booking_id=booking_id,
                    due_at=p.due_at) for p in plan]


def schedule_reminders(session: Session, svc: Services, applicant: Applicant, booking: Booking,
                       now: datetime) -> list[Outbox]:
    """Write the reminders of a new booking (the old booking's were cancelled with it)."""
    if applicant.opted_out or applicant.blocked:
        return []
    s = svc.settings
    plan = booking_reminders(booking.start_at, now, s.tz, s.policy, applicant.contact_window,
                             contact_channels(svc, applicant, session))
    slot = Slot(booking.start_at, booking.end_at, booking.interviewer)
    who = Recipient(applicant.name, applicant.locale, applicant.job_id, applicant.phone)

    def payload(p: Planned) -> dict:
        if p.kind == Kind.UNCONFIRMED_ALERT:
            return _alert("unconfirmed", applicant, when=format_slot(slot, s.tz, "ja"), phone=applicant.phone or "-",
                          company_phone=s.company.phone)
        if p.kind == OUTCOME:
            links = outcome_links(svc, booking)
            return {**_alert("outcome", applicant, when=format_slot(slot, s.tz, "ja"), **links),
                    "links": [{"kind": "action", "title": "参加 / Attended", "url": links["attended"]},
                              {"kind": "action", "title": "不参加 / No-show", "url": links["no_show"]}]}
        return svc.renderer.render(p.kind, who, current=slot, booking_token=booking.token)

    plan.append(Planned(OUTCOME, booking.end_at + OUTCOME_AFTER, RECRUITER_CHANNEL))
    # Planned again for a booking that kept some rows (the recruiter's, through a LINE block and re-follow):
    # what is still waiting is not written twice.
    waiting = set(session.execute(select(Outbox.kind).where(Outbox.booking_id == booking.id,
                                                            Outbox.status == OutboxStatus.PENDING)).scalars())
    return _write(session, svc, applicant, [p for p in plan if p.kind not in waiting], payload, booking.id)


def outcome_sig(secret_key: str, booking_token: str, outcome: str) -> str:
    """The signature in a recruiter's 'attended / no-show' mail link (no login needed to use it)."""
    return mac_hex(secret_key, f"outcome:{booking_token}:{outcome}")


def outcome_links(svc: Services, booking: Booking) -> dict[str, str]:
    base, key = svc.config.public_base_url, svc.keys.current(KeyPurpose.LINKS)
    return {o: f"{base}/recruiter/outcome/{booking.token}/{o}/{outcome_sig(key, booking.token, o)}"
            for o in (BookingStatus.ATTENDED, BookingStatus.NO_SHOW)}


def schedule_nudges(session: Session, svc: Services, applicant: Applicant, now: datetime) -> list[Outbox]:
    """Write the no-reply nudges after a greeting, and the final 'unreachable' mark."""
    if applicant.opted_out or applicant.blocked:
        return []
    s = svc.settings
    plan = greeting_nudges(now, s.tz, s.policy, applicant.contact_window, contact_channels(svc, applicant, session))
    # The documented nudges once per person who never answered, however many applications greeted them.
    left = len(s.policy.nudge_after_hours) - nudged_unanswered(session, applicant)
    nudges = [p for p in plan if p.kind == Kind.NUDGE][:max(left, 0)]
    who = Recipient(applicant.name, applicant.locale, applicant.job_id, applicant.phone)

    def payload(p: Planned) -> dict:
        # The 'unreachable' mark is written when the last nudge goes out, timed from then.
        return {**svc.renderer.render(Kind.NUDGE, who), "last": p is nudges[-1]}

    return _write(session, svc, applicant, nudges, payload)


def _give_up_later(session: Session, svc: Services, applicant: Applicant, now: datetime) -> None:
    policy = svc.settings.policy
    due = now + timedelta(hours=policy.give_up_after_hours)
    plan = [Planned(Kind.UNREACHABLE, due, RECRUITER_CHANNEL)]
    _write(session, svc, applicant, plan, lambda p: _alert("unreachable", applicant,
                                                           count=len(policy.nudge_after_hours)))


def confirmed(session: Session, booking: Booking, now: datetime) -> int:
    """The candidate said they will come: stamp the booking and drop its unconfirmed follow-ups."""
    if booking.confirmed_at is None:
        booking.confirmed_at = now
    return cancel_pending(session, Outbox.kind.in_(UNCONFIRMED), booking_id=booking.id)


def answered(session: Session, applicant_id: int) -> int:
    """The candidate wrote back: no more 'did you see our message?' nudges."""
    if prefetch.take(session, "answered", applicant_id) is not prefetch.MISSING:
        return 0  # done for the whole batch of turns at once (answered_all)
    return cancel_pending(session, Outbox.kind.in_(NO_REPLY), applicant_id=applicant_id)


def answered_all(session: Session, applicant_ids: set[int]) -> None:
    """answered() for several candidates in one statement; each one's next answered() call is then free."""
    if applicant_ids:
        session.execute(update(Outbox).where(Outbox.applicant_id.in_(sorted(applicant_ids)),
                                             Outbox.status == OutboxStatus.PENDING, Outbox.kind.in_(NO_REPLY))
                        .values(status=OutboxStatus.CANCELLED), execution_options={"synchronize_session": False})
        prefetch.put(session, "answered", dict.fromkeys(applicant_ids, True))


def was_reminded(session: Session, booking_id: int | None) -> bool:
    """Whether a reminder asking '1 = attending, 2 = change' went out for this booking."""
    if booking_id is None:
        return False
    query = select(exists().where(Outbox.booking_id == booking_id, Outbox.status == OutboxStatus.SENT,
                                  Outbox.kind.in_((*REMINDERS, "unconfirmed_nudge"))))
    return bool(session.execute(query).scalar())


def _stale(session: Session, row: Outbox, applicant: Applicant | None, now: datetime) -> str | None:
    if row.kind in (*REMINDERS, *UNCONFIRMED):
        booking = session.get(Booking, row.booking_id) if row.booking_id else None
        if booking is None or booking.status not in LIVE_BOOKING or booking.start_at <= now:
            return "the interview was moved, cancelled or has passed"
        if row.kind in UNCONFIRMED and (booking.status == BookingStatus.CONFIRMED or booking.confirmed_at):
            return "the candidate confirmed"
    if row.kind == OUTCOME:
        booking = session.get(Booking, row.booking_id) if row.booking_id else None
        if booking is None or booking.status not in LIVE_BOOKING:
            return "the outcome is already marked, or the interview was cancelled"
    if row.kind in NO_REPLY:
        if applicant is None or applicant.state != "greeted":
            return "the candidate moved on (booked, stopped or needs a person)"
        if applicant.last_inbound_at is not None and applicant.last_inbound_at >= row.created_at:
            return "the candidate answered"
        if answered_since(session, applicant, row.created_at):
            return "the candidate answered about another application of theirs"
    return None


def hold(session: Session, svc: Services, row: Outbox, applicant: Applicant | None) -> str | None:
    """Cancel a follow-up that no longer applies, or move it out of quiet hours; None lets it go now."""
    if row.kind not in FOLLOW_UPS:
        return None
    now = svc.clock()
    if reason := _stale(session, row, applicant, now):
        row.status, row.last_error, row.lease_owner, row.lease_until = OutboxStatus.CANCELLED, reason, None, None
        return row.status
    # Checked again at send time: a row due at 20:55 that a busy or restarted worker reaches at 21:10 waits.
    if row.channel != RECRUITER_CHANNEL and is_quiet(now, svc.settings.tz, svc.settings.policy):
        row.status, row.lease_owner, row.lease_until = OutboxStatus.PENDING, None, None
        row.due_at, row.attempts = next_allowed(now, svc.settings.tz, svc.settings.policy), row.attempts - 1
        return row.status
    if row.kind == Kind.UNREACHABLE and applicant is not None:
        applicant.unreachable = True
    if row.kind == Kind.NUDGE and row.payload.get("last") and applicant is not None:
        _give_up_later(session, svc, applicant, now)
    return None


def backfill(svc: Services, limit: int = 200) -> int:
    """Give reminders to live bookings that have none (made by another path, or before reminders existed)."""
    now = svc.clock()
    # Cancelled rows do not count: a candidate who opted out and back in needs new ones.
    has_reminder = exists().where(Outbox.booking_id == Booking.id, Outbox.kind.in_(REMINDERS),
                                  Outbox.status != OutboxStatus.CANCELLED)
    reachable = select(Applicant.id).where(Applicant.opted_out.is_(False), Applicant.blocked.is_(False))
    query = (select(Booking).where(Booking.status.in_(LIVE_BOOKING), Booking.start_at > now + timedelta(minutes=30),
                                   Booking.created_at < now - timedelta(minutes=1), ~has_reminder,
                                   Booking.applicant_id.in_(reachable))
             .order_by(Booking.start_at).limit(limit))
    if svc.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two workers never plan the same booking
    written = 0
    with session_scope(svc.engine) as session:
        for booking in session.execute(query).scalars().all():
            applicant = session.get(Applicant, booking.applicant_id)
            if applicant is not None:
                written += len(schedule_reminders(session, svc, applicant, booking, now))
    if written:
        log.info("backfill: wrote %s reminder rows", written)
    return written
