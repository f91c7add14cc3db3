"""The inbox: conversations that need a person first, one conversation with a reply box, notes, the candidate's
panel; the saved replies admins keep. Thin: every action is bot.service.replies, every read
bot.service.conversations."""
from __future__ import annotations

from datetime import datetime

import phonenumbers
from flask import Blueprint, abort, jsonify, redirect, render_template, request, url_for

from bot.core import saved_replies as saved
from bot.core.alert_words import ALERT_WORDS
from bot.core.vocab import Role
from bot.db.engine import session_scope
from bot.db.models import Applicant
from bot.service import accounts, conversations, optouts, replies
from bot.service.candidate_page import sms_is_one_way
from bot.web.auth import staff_only, who
from bot.web.common import locale, services
from bot.web.contacts import channel_label, contact_notes
from bot.web.inbox_texts import STATES_EN, TEXTS
from bot.web.recruiter import STATE_LABELS
from bot.web.security import check_csrf, csrf_token

bp = Blueprint("inbox", __name__, url_prefix="/recruiter")
login_required = staff_only()
REPLY_WINDOW_SECONDS = 50  # LINE's reply token is used while younger than this (bot/channels/line/adapter.py)


def _company(svc, loc: str) -> str:
    return svc.settings.company.name.get(loc) or svc.settings.company.name.ja


def _label(svc, channel: str, loc: str) -> str:
    """The channel's name in the page's language, as the channel declares it."""
    info = svc.channel_info.get(channel)
    return (info.label.get(loc) or info.label.get("ja") or channel) if info is not None else channel_label(svc, channel)


def _me() -> replies.Staff:
    person = who()
    return replies.Staff(person.id, person.name)


def _lang() -> str:
    return locale()


def _check(applicant_id: int) -> None:
    """404 unless the person signed in may see this applicant (an interviewer: only their own candidates)."""
    with session_scope(services().engine) as db:
        if db.get(Applicant, applicant_id) is None or not accounts.may_see(db, who(), applicant_id):
            abort(404, "no such applicant")


def _ago(t: dict, since: datetime | None, now: datetime) -> str:
    if since is None:
        return ""
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return t["now"]
    if minutes < 60:
        return t["min"].format(n=minutes)
    if minutes < 48 * 60:
        return t["hour"].format(n=minutes // 60)
    return t["day"].format(n=minutes // 1440)


def _reason(loc: str, reason: str) -> str:
    ja, en = ALERT_WORDS.get(reason, ("", ""))
    return en if loc == "en" else ja


def _state(loc: str, state: str) -> str:
    return (STATES_EN if loc == "en" else STATE_LABELS).get(state, "")


def _window(t: dict, window: dict | None) -> str:
    if not isinstance(window, dict):
        return ""
    days = t["days"].get(window.get("days"), "")
    hours = f"{window.get('from', '')}〜{window.get('to', '')}" if window.get("from") else ""
    return " ".join(x for x in (days, hours) if x)


def _national(phone: str | None) -> str:
    """A number as people at the company dial it: 090-1111-2222 at home, +1 415 555 0100 abroad."""
    try:
        number = phonenumbers.parse(phone or "", None)
    except phonenumbers.NumberParseException:
        return phone or ""
    home = phonenumbers.region_code_for_number(number) == services().settings.country
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL if home
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@bp.get("/inbox")
@login_required
def index():
    return _page(None)


@bp.get("/inbox/<int:applicant_id>")
@login_required
def conversation(applicant_id: int):
    _check(applicant_id)
    return _page(applicant_id)


def _page(applicant_id: int | None, status: int = 200, **extra):
    svc, loc = services(), _lang()
    t, tz, now = TEXTS[loc], svc.settings.tz, svc.clock()
    mine = accounts.visible_ids(who())
    with session_scope(svc.engine) as db:
        waiting, recent = conversations.inbox(db, now, mine)
        view = _conversation(db, svc, applicant_id, t, loc) if applicant_id is not None else None
        stamp = conversations.stamp(db, applicant_id)
    rows = [{"e": e, "ago": _ago(t, e.waiting_since, now), "reasons": [_reason(loc, r) for r in e.reasons],
             "state": _state(loc, e.applicant.state)} for e in waiting]
    others = [{"e": e, "ago": _ago(t, e.last_at, now), "state": _state(loc, e.applicant.state)} for e in recent]
    return render_template("inbox.html", t=t, loc=loc, rows=rows, others=others, view=view, stamp=stamp,
                           csrf=csrf_token(), company=_company(svc, loc),
                           tz=tz, here="inbox", selected=applicant_id, other_lang="en" if loc == "ja" else "ja",
                           admin=who().role == Role.ADMIN, reason=lambda r: _reason(loc, r), **extra), status


def _conversation(db, svc, applicant_id: int, t: dict, loc: str) -> dict:
    a = db.get(Applicant, applicant_id)
    items = conversations.thread(db, applicant_id)
    alerts = db.exec(replies.open_alerts(svc.clock(), applicant_id)).all()
    others, bookings, opened, reports = conversations.panel(db, a)
    note = contact_notes(db, svc, [a])[a.id]
    via = optouts.channel_for(db, svc, a)
    fields = replies.fields_for(db, svc, a)
    figures = {}
    for report in svc.figures.values():
        figures.update(report(db, svc))
    last_in = next((i for i in reversed(items) if i.kind == "in"), None)
    fresh = (last_in is not None and last_in.channel == "line"
             and (svc.clock() - last_in.at).total_seconds() < REPLY_WINDOW_SECONDS)
    if via is None:
        hint = t["unreachable"]
    elif via == "line":
        hint = t["reply_line_fresh"] if fresh else t["reply_line"]
    elif via == "sms":
        hint = t["reply_sms_one_way"] if sms_is_one_way(svc.settings, a.phone) else t["reply_sms"]
    elif via == "email":
        hint = t["reply_email"]
    else:
        hint = t["reply_chat"]
    use = request.args.get("use", "")
    templates = [(title, saved.fill(body, fields)) for title, body in replies.saved_list(db, svc)]
    draft = templates[int(use)][1] if use.isdigit() and int(use) < len(templates) else ""
    job = svc.settings.jobs.get(a.job_id)
    db.expunge_all()
    return {"a": a, "thread": items, "alerts": alerts, "others": others, "bookings": bookings, "opened": opened,
            "reports": reports, "note": note, "via": via, "via_label": _label(svc, via, loc) if via else "",
            "hint": hint, "pushes": figures.get("line_pushes") if via == "line" else None,
            "templates": templates, "draft": draft, "state": _state(loc, a.state),
            "job": (job.title.get(loc) or job.title.ja) if job else "", "window": _window(t, a.contact_window),
            "phone": svc.settings.company.phone, "dial": _national(a.phone), "interviewers": svc.settings.interviewers,
            "channels": {name: _label(svc, name, loc) for name in svc.channel_info},
            "jobs": {jid: j.title.get(loc) or j.title.ja for jid, j in svc.settings.jobs.items()}}


def _text() -> str:
    return request.form.get("text", "")


@bp.post("/inbox/<int:applicant_id>/reply")
@login_required
def reply(applicant_id: int):
    check_csrf()
    _check(applicant_id)
    t = TEXTS[_lang()]
    try:
        replies.reply(services(), applicant_id, _me(), _text())
    except ValueError:
        return _page(applicant_id, 400, error=t["empty"])
    except replies.Unreachable:
        return _page(applicant_id, 409, error=t["unreachable"])
    return _back(applicant_id)


@bp.post("/inbox/<int:applicant_id>/note")
@login_required
def note(applicant_id: int):
    check_csrf()
    _check(applicant_id)
    try:
        replies.note(services(), applicant_id, _me(), _text())
    except ValueError:
        return _page(applicant_id, 400, error=TEXTS[_lang()]["empty"])
    return _back(applicant_id)


@bp.post("/inbox/<int:applicant_id>/resolve")
@login_required
def resolve(applicant_id: int):
    check_csrf()
    _check(applicant_id)
    alert = request.form.get("alert", "")
    replies.resolve(services(), applicant_id, _me(), int(alert) if alert.isdigit() else None)
    return _back(applicant_id)


@bp.post("/inbox/<int:applicant_id>/hand-back")
@login_required
def hand_back(applicant_id: int):
    check_csrf()
    _check(applicant_id)
    if not replies.hand_back(services(), applicant_id, _me()):
        abort(404, "no such applicant")
    return _back(applicant_id)


def _back(applicant_id: int):
    lang = request.form.get("lang")
    return redirect(url_for("inbox.conversation", applicant_id=applicant_id, lang=lang or None), 303)


@bp.get("/inbox/stamp")
@login_required
def stamp():
    """What the page polls: a fingerprint of what it shows (it redraws when this changes) and how many wait."""
    raw = request.args.get("a", "")
    applicant_id = int(raw) if raw.isascii() and raw.isdigit() else None
    if applicant_id is not None:
        _check(applicant_id)
    svc = services()
    with session_scope(svc.engine) as db:
        waiting, _ = conversations.inbox(db, svc.clock(), accounts.visible_ids(who()), limit=1)
        value = conversations.stamp(db, applicant_id)
    return jsonify(stamp=value, waiting=len(waiting))


@bp.route("/saved-replies", methods=["GET", "POST"])
@staff_only(Role.ADMIN)
def saved_replies():
    """Admins edit the saved replies: a list of name and text, fields checked before anything is kept."""
    svc, loc = services(), _lang()
    t, error, done = TEXTS[loc], None, False
    if request.method == "POST":
        check_csrf()
        titles, bodies = request.form.getlist("title"), request.form.getlist("body")
        pairs = [(ti.strip()[:saved.MAX_TITLE], b.replace("\r\n", "\n").strip()[:saved.MAX_BODY])
                 for ti, b in zip(titles, bodies) if b.strip()]
        pairs = [(ti or b[:20], b) for ti, b in pairs]
        error = next((f"{ti}: {why}" for ti, b in pairs if (why := saved.problem(b))), None)
        if error is None:
            replies.save_list(svc, _me(), pairs)
            done = True
        shown = pairs
    with session_scope(svc.engine) as db:
        if request.method == "GET" or error is None:
            shown = replies.saved_list(db, svc)
    fields = " ".join("{" + f + "}" for f in saved.FIELDS)
    return render_template("saved_replies.html", t=t, loc=loc, replies=shown, error=error, done=done,
                           csrf=csrf_token(), company=_company(svc, loc),
                           here="inbox", fields=fields, field_labels=saved.FIELDS), 400 if error else 200

