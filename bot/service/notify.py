"""Recruiter alerts to people, not only on the page: a mail to each person who should know (when SMTP is set) and
a message to a Slack-compatible chat webhook (ALERT_WEBHOOK_URL).

When an alert row goes out, `fan_out` writes one outbox row per mail and one for the webhook on the staff channel
(bot/channels/staff), in the transaction that claims it: each is retried on its own (a webhook that answers 500
does not send the mails again), and an alert cancelled before it was due (the candidate confirmed, after all)
never reaches anyone. Admins and recruiters get every alert; an interviewer only those of their own candidates.

What they say is as little as lets a person act: why, the candidate's initial and application number, and the link
to the recruiter page, where signing in shows the rest. No phone number, address or message text: mail is
copied, forwarded and kept in mailboxes we do not control, and a chat room has members, bots and search; what
they say there outlives an erasure of the candidate. The initial is kept so that a person can tell two alerts apart
at a glance; the e-mail to the company's own people alone carries the signed attended / no-show links.
"""
from __future__ import annotations

import logging

from sqlalchemy import exists
from sqlmodel import Session, select

from bot.core.alert_words import ALERT_WORDS
from bot.core.vocab import STAFF_CHANNEL, Kind, Role
from bot.db.accounts import Account
from bot.db.models import Applicant, Booking, Outbox
from bot.service.accounts import person
from bot.service.deps import Services

log = logging.getLogger("sokuresu.notify")
MAIL, WEBHOOK = "mail", "webhook"  # the `via` of a staff row

def initial(name: str) -> str:
    """The first letter of the name as given (山田 花子 → 山, Jane Doe → J)."""
    return (name or "?").strip()[:1] or "?"


def recipients(session: Session, svc: Services, applicant: Applicant | None) -> list[str]:
    """Who is mailed an alert: every admin and recruiter, and the interviewers of this candidate's interviews."""
    theirs = set()
    if applicant is not None:
        theirs = set(session.exec(select(Booking.interviewer).where(Booking.applicant_id == applicant.id)).all())
    found = []
    for account in session.exec(select(Account).where(Account.removed_at.is_(None)).order_by(Account.id)).all():
        if account.role in (Role.ADMIN, Role.RECRUITER) or set(person(svc.settings, account).interviewers) & theirs:
            found.append(account.email)
    return found


def words(svc: Services, row: Outbox, applicant: Applicant | None, *, actions: bool) -> tuple[str, str]:
    """(subject, text) of an alert for people: why, who by initial and number, where to look."""
    reason = row.payload.get("reason") or row.kind
    ja, en = ALERT_WORDS.get(reason, ("対応が必要です", "a person is needed"))
    company = svc.settings.company.name.ja
    if applicant is None:
        subject = f"[{company}] {ja}"
        return subject, f"{ja}\n{svc.config.public_base_url}/recruiter\n\n{en}"
    who = initial(applicant.name)
    page = f"{svc.config.public_base_url}/recruiter/applicants/{applicant.id}"
    lines = [f"{ja}: {who}さん（応募 #{applicant.id}）", page]
    if actions:  # the outcome request's signed links, only in a mail to one of the company's people
        lines += [f"{link['title']}: {link['url']}" for link in row.payload.get("links", []) if link.get("url")]
    lines += ["", f"{en.capitalize()}: {who}. (application #{applicant.id})"]
    return f"[{company}] {ja}（#{applicant.id} {who}さん）", "\n".join(lines)


def fan_out(session: Session, svc: Services, row: Outbox, applicant: Applicant | None) -> int:
    """Write the alert's mails and webhook message as staff rows, once per alert; how many were written."""
    mail = bool(svc.config.smtp_url)
    hook = bool(svc.config.alert_webhook_url)
    if not (mail or hook):
        return 0
    key = f"staff:{row.idempotency_key}"
    if session.execute(select(exists().where(Outbox.idempotency_key.startswith(key)))).scalar():
        return 0  # written when this alert was claimed before (a worker that died after it)
    targets = [(MAIL, to) for to in (recipients(session, svc, applicant) if mail else [])]
    targets += [(WEBHOOK, None)] if hook else []
    now = svc.clock()
    for n, (via, to) in enumerate(targets):
        subject, text = words(svc, row, applicant, actions=via == MAIL)
        payload = {"kind": Kind.STAFF_ALERT, "via": via, "to": to, "subject": subject, "text": text,
                   "alert": row.id, "applicant": applicant.id if applicant is not None else None}
        session.add(Outbox(channel=STAFF_CHANNEL, kind=Kind.STAFF_ALERT, payload=payload, due_at=now, created_at=now,
                           idempotency_key=f"{key}:{n}"[:64], delivery_mode=via))
    if targets:
        svc.process.wake.set()  # the worker sends them in its next round
    return len(targets)
