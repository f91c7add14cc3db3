"""The part of a calendar event's description that helps the recruiter: the conversation so far and a call script."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.core.settings import Settings
from bot.core.vocab import Direction
from bot.db.models import Applicant, MessageLog
from bot.service.inbound_log import write_pending

MAX_LINES = 20  # the latest messages only: the event description is read on a phone, not archived
MAX_CHARS = 120


def _line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_CHARS else flat[:MAX_CHARS - 1] + "…"


def conversation(session: Session, settings: Settings, applicant: Applicant) -> str:
    """The latest messages, oldest first, one line each."""
    write_pending(session)  # what the candidate said in this batch of turns, too
    rows = session.exec(select(MessageLog).where(MessageLog.applicant_id == applicant.id)
                        .order_by(MessageLog.id.desc()).limit(MAX_LINES)).all()
    lines = []
    for row in reversed(rows):
        who = "候補者" if row.direction == Direction.IN else "ボット"
        lines.append(f"[{row.created_at.astimezone(settings.tz):%m/%d %H:%M}] {who}: {_line(row.text)}")
    return "\n".join(lines) or "（まだメッセージはありません）"


def call_script(settings: Settings, applicant: Applicant) -> str:
    """What to say in the first 30 seconds: name, thanks, a check that now is fine, one warm question."""
    job = settings.jobs.get(applicant.job_id)
    title = job.title.ja if job else applicant.job_id
    return (f"1. 「{applicant.name}さんでしょうか。{settings.company.name.ja}採用担当の（お名前）です。」\n"
            f"2. 「{title}にご応募いただき、本当にありがとうございます。」\n"
            "3. 「いま数分だけ、お時間よろしいですか？」（だめなら、都合のよい時間を聞いてかけ直す）\n"
            "4. 「どんなところに興味を持ってくださったか、ひとつ教えてください。」\n"
            f"※ 候補者には {settings.company.phone} からかけると案内済みです。")


def note_extras(session: Session, settings: Settings, applicant: Applicant) -> str:
    """Conversation and call script, appended to the booking's description."""
    return (f"\n\n--- これまでのやりとり ---\n{conversation(session, settings, applicant)}"
            f"\n\n--- 最初の30秒 ---\n{call_script(settings, applicant)}")
