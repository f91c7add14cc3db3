"""Deleting a person's data from the recruiter page (admins only, with a confirm step), and the retention note."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from sqlmodel import select

from bot.core.vocab import Role
from bot.db.engine import session_scope
from bot.db.models import Booking, MessageLog
from bot.service import erasure
from bot.web.auth import staff_only, who
from bot.web.common import services
from bot.web.security import check_csrf, csrf_token

bp = Blueprint("privacy", __name__, url_prefix="/recruiter")


def retention_note(days: int) -> tuple[str, str]:
    """The retention setting in a recruiter's words, Japanese and English."""
    if not days:
        return "自動削除: 無効（削除はこの画面から1人ずつ）", "Automatic deletion: off"
    return f"自動削除: 最終更新から{days}日で削除", f"Automatic deletion: {days} days after the last activity"


@bp.app_context_processor
def _retention():
    return {"retention_note": lambda: retention_note(services().settings.retention_days)}


def _summary(applicant_id: int) -> dict:
    """Who would be deleted and how much of theirs, for the confirm step; 404 when there is no such applicant."""
    with session_scope(services().engine) as db:
        group = erasure.person_of(db, applicant_id)
        if not group:
            abort(404, "no such applicant")
        ids = [a.id for a in group]
        messages = len(db.exec(select(MessageLog.id).where(MessageLog.applicant_id.in_(ids))).all())
        interviews = len(db.exec(select(Booking.id).where(Booking.applicant_id.in_(ids))).all())
        return {"name": next(a.name for a in group if a.id == applicant_id), "ids": ids, "messages": messages,
                "interviews": interviews}


def _page(applicant_id: int, status: int = 200, **extra):
    svc = services()
    ja, en = retention_note(svc.settings.retention_days)
    return render_template("erase.html", applicant_id=applicant_id, csrf=csrf_token(), retention=(ja, en),
                           company=svc.settings.company.name.ja, here="applicants",
                           action=url_for("privacy.erase", applicant_id=applicant_id), **extra), status


@bp.get("/applicants/<int:applicant_id>/erase")
@staff_only(Role.ADMIN)
def confirm(applicant_id: int):
    """Ask first, naming what goes: a slip on a busy page must not delete anyone."""
    return _page(applicant_id, **_summary(applicant_id))


@bp.post("/applicants/<int:applicant_id>/erase")
@staff_only(Role.ADMIN)
def erase(applicant_id: int):
    check_csrf()
    if request.form.get("confirm") != "yes":  # straight from a script or an old form: ask first
        return _page(applicant_id, **_summary(applicant_id))
    erased = erasure.erase(services(), applicant_id, by=who().id, via="web")
    if erased is None:
        abort(404, "no such applicant")
    return _page(applicant_id, done=erased)
