"""Admins' pages: the people who may sign in (invite, remove) and the audit log of what everyone did."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlmodel import select

from bot.core.vocab import AuditAction, Role
from bot.db.engine import session_scope
from bot.db.models import Applicant
from bot.service import accounts, audit
from bot.web.auth import MAILER, ROLE_LABELS, send_link, staff_only, who
from bot.web.common import services
from bot.web.security import check_csrf, csrf_token

bp = Blueprint("people", __name__, url_prefix="/recruiter")

ROLE_HINTS = {Role.ADMIN: "すべての応募者と操作、メンバーの招待・削除、操作履歴",
              Role.RECRUITER: "すべての応募者と操作",
              Role.INTERVIEWER: "ご自身の面接の応募者のみ（設定の面接官とメールアドレスで対応）"}
ACTION_LABELS = {AuditAction.SIGN_IN: "サインイン", AuditAction.SIGN_OUT: "ログアウト",
                 AuditAction.INVITE: "招待・リンク発行", AuditAction.REMOVE: "アクセスを削除",
                 AuditAction.MARK_OUTCOME: "面接結果を記録", AuditAction.UNDO_OUTCOME: "面接結果の記録を取り消し",
                 AuditAction.RESUME: "ボットに戻す・返答済み", AuditAction.ERASE: "個人データを削除"}
VIA_LABELS = {"web": "画面", "cli": "コマンド", "link": "メールのリンク", "mail_link": "メールのリンク",
              "google": "Google", "retention": "保存期間の設定（自動）"}
DETAIL_LABELS = {"attended": "参加", "no_show": "不参加", **ROLE_LABELS}
PAGE = 100


def _people_page(status: int = 200, **extra):
    svc = services()
    with session_scope(svc.engine) as db:
        everyone = accounts.people(db)
    tz = svc.settings.tz
    rows = [{"a": a, "p": accounts.person(svc.settings, a),
             "last": a.last_sign_in_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if a.last_sign_in_at else ""}
            for a in everyone]
    return render_template("people.html", rows=rows, csrf=csrf_token(), company=svc.settings.company.name.ja,
                           role_labels=ROLE_LABELS, role_hints=ROLE_HINTS, roles=list(Role), here="people",
                           can_mail=current_app.extensions.get(MAILER) is not None, **extra), status


@bp.get("/people")
@staff_only(Role.ADMIN)
def index():
    return _people_page()


@bp.post("/people")
@staff_only(Role.ADMIN)
def invite():
    """Invite a person (or send a new link, or change a role): the link goes by mail, or shows here without SMTP."""
    check_csrf()
    email, name = request.form.get("email", "").strip(), request.form.get("name", "").strip()[:200]
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        abort(400, "unknown role")
    if not accounts.looks_like_email(email):
        return _people_page(400, error="メールアドレスの形式をご確認ください。", form=request.form)
    svc = services()
    try:
        account, link = accounts.invite(svc, email, role, name, by=who().id, via="web")
    except accounts.LastAdmin:
        return _people_page(409, error="管理者がほかにいないため、この方の役割は変えられません。")
    mailer = current_app.extensions.get(MAILER)
    if mailer is None:  # no SMTP: the admin passes the link on themselves
        return _people_page(shown=link, invited=account.email)
    sent = send_link(mailer, svc, account, link, invited=True)
    return _people_page(invited=account.email, mailed=sent)


@bp.post("/people/remove")
@staff_only(Role.ADMIN)
def remove():
    """Take a person's access away; their open sessions end on their next request."""
    check_csrf()
    svc = services()
    try:
        removed = accounts.remove(svc, request.form.get("email", ""), by=who().id, via="web")
    except accounts.LastAdmin:
        return _people_page(409, error="最後の管理者は削除できません。先にほかの方を管理者として招待してください。")
    if removed is None:
        abort(404, "no such person")
    return redirect(url_for("people.index"), 303)


@bp.get("/audit")
@staff_only(Role.ADMIN)
def audit_log():
    """Who did what, newest first, 100 to a page."""
    svc = services()
    before = request.args.get("before", "")
    with session_scope(svc.engine) as db:
        entries, named = audit.recent(db, PAGE, int(before) if before.isascii() and before.isdigit() else None)
        # An erased person's applications are gone: their entries keep the number, without a link to nothing.
        ids = {e.applicant_id for e in entries if e.applicant_id}
        present = set(db.exec(select(Applicant.id).where(Applicant.id.in_(ids))).all()) if ids else set()
    tz = svc.settings.tz
    rows = [{"e": e, "at": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
             "by": accounts.person(svc.settings, named[e.account_id]).name if e.account_id in named else "",
             "target": named[e.target_account_id].email if e.target_account_id in named else ""}
            for e in entries]
    older = entries[-1].id if len(entries) == PAGE else None
    return render_template("audit.html", rows=rows, older=older, company=svc.settings.company.name.ja,
                           csrf=csrf_token(), here="audit", action_labels=ACTION_LABELS, via_labels=VIA_LABELS,
                           detail_labels=DETAIL_LABELS, present=present)
