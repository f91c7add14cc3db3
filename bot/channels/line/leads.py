"""LINE friends without a linked application: link one by its code, or apply inside LINE (name, job, phone)."""
from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, select, update

from bot.service.deps import Services
from bot.core.events import Applied, WantSlots
from bot.service.intake import normalise_phone
from bot.channels.line.format import fit
from bot.core.messages import Recipient
from bot.db.models import Applicant, LineLead, Outbox
from bot.service.people import recognise, take_line
from bot.service.turn import Turn
from bot.service.outbox import alert, enqueue

CODE = re.compile(r"^[A-HJ-NP-Z2-9]{6}$")  # the link-code alphabet of bot.service.intake (no 0/O, 1/I)
SKIP = {"skip", "スキップ", "なし", "無し", "ない", "いいえ", "no", "none"}


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


def start(session: Session, svc: Services, user_id: str, reply_to: dict | None) -> None:
    """Welcome a new friend: send the code if you applied on the web, or your name to apply here."""
    lead = lead_of(session, user_id) or LineLead(line_user_id=user_id, created_at=svc.clock())
    lead.step, lead.name, lead.job_id, lead.phone, lead.updated_at = "name", None, None, None, svc.clock()
    session.add(lead)
    say(session, svc, user_id, "line_welcome", reply_to)


def answer(session: Session, svc: Services, user_id: str, text: str | None, data: str | None,
           reply_to: dict | None) -> None:
    """Take the next message or tap of a friend without an application."""
    lead = lead_of(session, user_id)
    if text and (code := code_of(text)):
        applicant = session.exec(select(Applicant).where(Applicant.link_code == code)).first()
        if applicant is not None:
            return link(session, svc, applicant, user_id, reply_to, lead)
        if any(ch.isdigit() for ch in code):  # a name has no digits: this was meant as a code
            return say(session, svc, user_id, "line_code_unknown", reply_to)
    if lead is None:
        return start(session, svc, user_id, reply_to)
    lead.updated_at = svc.clock()
    if lead.step == "name":
        return _name(session, svc, lead, text, reply_to)
    if lead.step == "job":
        return _job(session, svc, lead, text, data, reply_to)
    return _phone(session, svc, lead, text, data, reply_to)


def _ask_job(session: Session, svc: Services, lead: LineLead, reply_to: dict | None) -> None:
    jobs = list(svc.settings.jobs.values())
    if len(jobs) == 1:
        lead.job_id = jobs[0].id
        return _ask_phone(session, svc, lead, reply_to)
    lead.step = "job"
    buttons = [{"label": j.title.get(lead.locale), "data": f"job:{j.id}"} for j in jobs[:13]]
    say(session, svc, lead.line_user_id, "line_ask_job", reply_to, name=lead.name or "", buttons=buttons)


def _ask_phone(session: Session, svc: Services, lead: LineLead, reply_to: dict | None, kind="line_ask_phone") -> None:
    lead.step = "phone"
    skip = [{"label": fit(svc.renderer.text(lead.locale, "skip_button")), "data": "skip"}]
    say(session, svc, lead.line_user_id, kind, reply_to, buttons=skip)


def _name(session: Session, svc: Services, lead: LineLead, text: str | None, reply_to: dict | None) -> None:
    name = " ".join((text or "").split())
    if not name or len(name) > 100 or "://" in name:
        return say(session, svc, lead.line_user_id, "line_ask_name", reply_to)
    lead.name = name
    _ask_job(session, svc, lead, reply_to)


def _job(session: Session, svc: Services, lead: LineLead, text: str | None, data: str | None,
         reply_to: dict | None) -> None:
    wanted = data[4:] if data and data.startswith("job:") else (text or "").strip()
    for job in svc.settings.jobs.values():
        if wanted in (job.id, job.title.ja, job.title.en):
            lead.job_id = job.id
            return _ask_phone(session, svc, lead, reply_to)
    _ask_job(session, svc, lead, reply_to)  # a stale or forged button, or free text: show the choices again


def _phone(session: Session, svc: Services, lead: LineLead, text: str | None, data: str | None,
           reply_to: dict | None) -> None:
    if data == "skip" or (text or "").strip().lower() in SKIP:
        return finish(session, svc, lead, None, reply_to)
    try:
        phone = normalise_phone(text or "")
    except ValueError:
        return _ask_phone(session, svc, lead, reply_to, "line_bad_phone")
    finish(session, svc, lead, phone, reply_to)


def finish(session: Session, svc: Services, lead: LineLead, phone: str | None, reply_to: dict | None) -> None:
    """Turn the lead into an application and greet at once, as any other application is."""
    if lead.job_id not in svc.settings.jobs:  # the job closed while they were typing
        return _ask_job(session, svc, lead, reply_to)
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
    if (keeper := take_line(session, user_id, svc.clock())) is not None:
        # An earlier application of theirs keeps LINE for its booked interview: a person follows this one up.
        alert(session, svc, applicant, "line_kept", f"#{keeper.id}")
        return say(session, svc, user_id, "line_code_later", reply_to)
    applicant.line_user_id, applicant.link_code, applicant.blocked = user_id, None, False
    if lead is not None:
        session.delete(lead)
    # Messages written before we knew their LINE user were held by the channel; fresh ones replace them.
    session.execute(update(Outbox).where(Outbox.applicant_id == applicant.id, Outbox.channel == "line",
                                         Outbox.status.in_(("pending", "sending")))
                    .values(status="cancelled", lease_owner=None,
                            last_error="replaced after the LINE account was linked"))
    session.flush()
    untouched = applicant.state in ("new", "greeted")
    if untouched:
        applicant.state = "new"  # greet again from the start: the first greeting never reached them
    Turn(svc, session, applicant, reply_to).run(Applied() if untouched else WantSlots())
