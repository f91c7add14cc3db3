"""LINE friends without a linked application: link one by its code, or apply inside LINE (name, job, phone)."""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from sqlmodel import Session, select, update

from bot.channels.line import lead_steps as steps
from bot.channels.line.format import fit
from bot.core.events import Applied, Linked
from bot.core.messages import Recipient
from bot.core.vocab import OUTBOX_WAITING, AlertReason, OutboxStatus
from bot.db.models import Applicant, CodeAttempt, LineLead, Outbox
from bot.service.deps import Services
from bot.service.intake import screen
from bot.service.outbox import alert, enqueue
from bot.service.people import recognise, take_line
from bot.service.turn import Turn

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")  # the link-code alphabet of bot.service.intake (no 0/O, 1/I)
# Six letters are about 30 bits: a code links only for two weeks after applying, and a LINE user whose codes
# missed five times in a day is not heard for the rest of that day.
CODE_VALID = timedelta(days=14)
MAX_MISSES = 5
LOCKED_FOR = timedelta(days=1)


def say(session: Session, svc: Services, user_id: str | None, kind: str, reply_to: dict | None, *,
        name: str = "", locale: str = "ja", buttons: list[dict] | None = None, reply_only: bool = False) -> None:
    """Queue one message to a LINE user who has no application (yet)."""
    payload = svc.renderer.render(kind, Recipient(name, locale, ""))
    if buttons is not None:
        payload["buttons"] = buttons
    payload["line_to"] = user_id
    if reply_to:
        payload["reply_to"] = reply_to
    if reply_only:
        payload["reply_only"] = True
    enqueue(session, svc, None, payload, channel="line")


def lead_of(session: Session, user_id: str) -> LineLead | None:
    return session.exec(select(LineLead).where(LineLead.line_user_id == user_id)).first()


def code_of(text: str) -> str | None:
    """The text as a link code (full-width, lower case, spaces and hyphens forgiven), or None."""
    norm = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", text or "").upper())
    return norm if CODE.match(norm) else None


def by_code(session: Session, svc: Services, user_id: str, code: str) -> tuple[Applicant | None, bool, bool]:
    """(the application this code links, whether codes from this user are locked out for now, whether it was
    a code of ours that has lapsed).

    Only a miss that looks meant as a code (it has a digit: a name has none, or it was ours) counts."""
    now = svc.clock()
    tries = session.exec(select(CodeAttempt).where(CodeAttempt.channel == "line", CodeAttempt.sender == user_id)
                         .with_for_update()).first()
    if tries is not None and now >= tries.first_miss_at + LOCKED_FOR:
        tries.misses, tries.first_miss_at = 0, now  # a new day: a clean slate
    if tries is not None and tries.misses >= MAX_MISSES:
        return None, True, False
    applicant = session.exec(select(Applicant).where(Applicant.link_code == code)).first()
    if applicant is not None and now < applicant.created_at + CODE_VALID:
        return applicant, False, False
    lapsed = applicant is not None
    if lapsed or any(ch.isdigit() for ch in code):
        if tries is None:
            tries = CodeAttempt(channel="line", sender=user_id, misses=0, first_miss_at=now)
            session.add(tries)
        tries.misses += 1
    return None, False, lapsed


def start(session: Session, svc: Services, user_id: str, reply_to: dict | None) -> None:
    """Welcome a new friend: send the code if you applied on the web, or your name to apply here."""
    lead = lead_of(session, user_id) or LineLead(line_user_id=user_id, created_at=svc.clock())
    _store(lead, steps.Lead())
    lead.phone, lead.updated_at = None, svc.clock()
    session.add(lead)
    say(session, svc, user_id, "line_welcome", reply_to)


def answer(session: Session, svc: Services, user_id: str, text: str | None, data: str | None,
           reply_to: dict | None) -> None:
    """Take the next message or tap of a friend without an application."""
    lead = lead_of(session, user_id)
    if text and (code := code_of(text)):
        applicant, locked, lapsed = by_code(session, svc, user_id, code)
        if locked:
            return say(session, svc, user_id, "line_code_locked", reply_to)
        if applicant is not None:
            return link(session, svc, applicant, user_id, reply_to, lead)
        if lapsed or any(ch.isdigit() for ch in code):  # a name has no digits: this was meant as a code
            return say(session, svc, user_id, "line_code_unknown", reply_to)
    if lead is None:
        return start(session, svc, user_id, reply_to)
    lead.updated_at = svc.clock()
    step = steps.take(steps.Lead(lead.step, lead.name, lead.job_id), text, data, svc.settings.jobs)
    _store(lead, step.lead)
    if step.ask is None and step.phone and screen("phone", step.phone, svc.settings, svc.channel_info):
        # Another country or a premium-rate number: the same rules as the form, asked again kindly.
        return _ask(session, svc, lead, "line_bad_phone", reply_to)
    if step.ask is None:
        return finish(session, svc, lead, step.phone, reply_to)
    _ask(session, svc, lead, step.ask, reply_to)


def _store(lead: LineLead, step: steps.Lead) -> None:
    lead.step, lead.name, lead.job_id = step.step, step.name, step.job_id


def _ask(session: Session, svc: Services, lead: LineLead, kind: str, reply_to: dict | None) -> None:
    """Ask the question of the lead's step, with its buttons: the jobs, or "skip" for the phone number."""
    if kind == "line_ask_job":
        jobs = list(svc.settings.jobs.values())[:13]
        buttons = [{"label": j.title.get(lead.locale), "data": f"job:{j.id}"} for j in jobs]
        return say(session, svc, lead.line_user_id, kind, reply_to, name=lead.name or "", buttons=buttons)
    if kind in ("line_ask_phone", "line_bad_phone"):
        skip = [{"label": fit(svc.renderer.text(lead.locale, "skip_button")), "data": "skip"}]
        return say(session, svc, lead.line_user_id, kind, reply_to, buttons=skip)
    say(session, svc, lead.line_user_id, kind, reply_to)


def finish(session: Session, svc: Services, lead: LineLead, phone: str | None, reply_to: dict | None) -> None:
    """Turn the complete lead into an application and greet at once, as any other application is."""
    applicant = Applicant(name=lead.name, channel="line", job_id=lead.job_id, locale=lead.locale, phone=phone,
                          line_user_id=lead.line_user_id, source="line",
                          created_at=(now := svc.clock()), updated_at=now)
    session.add(applicant)
    session.delete(lead)
    session.flush()
    recognise(session, applicant)  # e.g. applied on the web before with the same phone
    Turn(svc, session, applicant, reply_to).run(Applied())


def link(session: Session, svc: Services, applicant: Applicant, user_id: str, reply_to: dict | None,
         lead: LineLead | None) -> None:
    """Tie the LINE user to a web application and greet them at once, here, with fresh times."""
    if (keeper := take_line(session, svc, user_id, svc.clock())) is not None:
        # An earlier application of theirs keeps LINE for its booked interview: a person follows this one up.
        alert(session, svc, applicant, AlertReason.LINE_KEPT, f"#{keeper.id}")
        return say(session, svc, user_id, "line_code_later", reply_to)
    applicant.line_user_id, applicant.link_code, applicant.blocked = user_id, None, False
    if lead is not None:
        session.delete(lead)
    # Messages written before we knew their LINE user were held by the channel; fresh ones replace them.
    session.execute(update(Outbox).where(Outbox.applicant_id == applicant.id, Outbox.channel == "line",
                                         Outbox.status.in_(OUTBOX_WAITING))
                    .values(status=OutboxStatus.CANCELLED, lease_owner=None,
                            last_error="replaced after the LINE account was linked"))
    session.flush()
    Turn(svc, session, applicant, reply_to).run(Linked())
