"""The recruiter page: every applicant with their state and interview, alerts, failed sends, feeds."""
from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlmodel import select

from bot.core.alert_words import ALERT_WORDS
from bot.core.messages import format_slot
from bot.core.signing import matches
from bot.core.unbroken import nowrap_html
from bot.core.vocab import (
    LIVE_BOOKING,
    OUTBOX_WAITING,
    RECRUITER_CHANNEL,
    AlertReason,
    AuditAction,
    BookingStatus,
    KeyPurpose,
    OutboxStatus,
    RefusalReason,
)
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking, MessageLog, Outbox
from bot.service import accounts, audit, inbox, refusals, replies
from bot.service.calendar_health import calendar_problems
from bot.service.followups import FOLLOW_UPS, outcome_sig
from bot.service.outcomes import OutcomeRefused, mark, refusal, undo, undo_until
from bot.service.shortlinks import opens_by_applicant
from bot.web.auth import staff_only, who
from bot.web.common import services
from bot.web.contacts import channel_label, contact_notes
from bot.web.security import check_csrf, csrf_token, feed_token

bp = Blueprint("recruiter", __name__, url_prefix="/recruiter")


@bp.app_template_filter("channel_name")
def channel_name(channel: str | None) -> str:
    """A channel as a recruiter calls it (SMS, メール, Webチャット), never its internal name."""
    return channel_label(services(), channel) if channel else ""


@bp.app_template_filter("message_name")
def message_name(kind: str | None) -> str:
    """What a message was, in a recruiter's words; a kind without its own name is just a message."""
    return FOLLOW_UP_LABELS.get(kind) or MESSAGE_LABELS.get(kind, "メッセージ")


@bp.app_template_filter("unbroken")
def unbroken(text: str) -> Markup:
    """Escape text, then keep each date, time and phone number of it on one line."""
    return Markup(nowrap_html(str(escape(text or ""))))

STATE_LABELS = {"new": "受付", "greeted": "日程選択中", "booked": "予約済み", "confirmed": "参加確認済み",
                "rescheduling": "日程変更中", "cancelled": "キャンセル", "attended": "面接済み", "no_show": "不参加",
                "opted_out": "配信停止", "needs_human": "要対応"}
REASON_LABELS = {reason: ja for reason, (ja, _) in ALERT_WORDS.items()}
DELIVERY_LABELS = {"queued": "送信待ち", "sent": "送信済み", "delivered": "到達", "undelivered": "不達",
                   "failed": "失敗", "read": "既読"}
FOLLOW_UP_LABELS = {"reminder_day_before": "前日リマインド", "reminder_soon": "直前リマインド",
                    "unconfirmed_nudge": "未確認の再連絡", "unconfirmed_alert": "未確認アラート",
                    "nudge": "未返信フォロー", "unreachable": "連絡不通の判定", "outcome_request": "結果記録の依頼"}
# Why an application was refused or its greeting held back (bot.service.refusals), in a recruiter's words.
REFUSAL_LABELS = {RefusalReason.RATE_CLIENT: "同じ接続元から短時間に多数の応募",
                  RefusalReason.RATE_DESTINATION: "同じ電話番号・メールアドレスへの応募が短時間に多数",
                  RefusalReason.PROOF_OF_WORK: "フォームの確認（自動送信対策）が済んでいない",
                  RefusalReason.COUNTRY: "受け付けていない国の電話番号",
                  RefusalReason.NUMBER_TYPE: "SMSを受け取れない番号（固定電話・有料番号など）",
                  RefusalReason.GREETED_TODAY: "応募は受付済み。同じ連絡先へ本日ご案内済みのため、あいさつは省略"}
SOURCE_LABELS = {"form": "応募フォーム", "api": "連携API"}
MESSAGE_LABELS = {"greeting": "最初のご連絡", "content": "会社紹介のご案内", "booked": "予約確定のお知らせ",
                  "confirmed": "参加確認へのお礼", "cancelled": "キャンセルの受付", "handoff": "担当者への引き継ぎ",
                  "date_menu": "日程のご案内", "offer_again": "日程の再案内", "reschedule": "日程変更のご案内",
                  "meeting_link": "オンライン面接のURL", "thanks_after": "面接後のお礼", "alert": "担当者への通知",
                  "calendar_book": "カレンダーへの書き込み"}
# Alerts that open a hand-off: once the recruiter has closed it (Resume), the list marks them answered.
HANDOFF_REASONS = (AlertReason.NOT_UNDERSTOOD, AlertReason.ASKED_FOR_PERSON, AlertReason.OPTED_IN_WAITING)
# "参加", not "来社": many interviews are online.
OUTCOME_LABELS = {BookingStatus.ATTENDED: "参加", BookingStatus.NO_SHOW: "不参加"}


# Every page here is for a person signed in (bot.web.auth), whatever their role; an interviewer sees only the
# candidates of their own interviews (404 for the others').
login_required = staff_only()


def _visible(applicant_id: int) -> None:
    """404 unless the person signed in may see this applicant."""
    me = who()
    if me is not None and not me.sees_everyone:
        with session_scope(services().engine) as db:
            if not accounts.may_see(db, me, applicant_id):
                abort(404, "no such applicant")


@bp.get("")
@bp.get("/")
@login_required
def index():
    svc = services()
    tz = svc.settings.tz
    mine = accounts.visible_ids(who())  # None: everyone's; an interviewer's: the candidates of their interviews
    with session_scope(svc.engine) as db:
        query = select(Applicant) if mine is None else select(Applicant).where(Applicant.id.in_(mine))
        applicants = db.exec(query.order_by(Applicant.id.desc()).limit(300)).all()
        ids = [a.id for a in applicants]
        bookings = {}
        for b in db.exec(select(Booking).where(Booking.applicant_id.in_(ids)).order_by(Booking.id)).all():
            kept = bookings.get(b.applicant_id)  # the live one, else the latest cancelled one
            if b.status != BookingStatus.CANCELLED or kept is None or kept.status == BookingStatus.CANCELLED:
                bookings[b.applicant_id] = b
        alerts = db.exec(select(Outbox).where(Outbox.channel == RECRUITER_CHANNEL,
                                              Outbox.status != OutboxStatus.CANCELLED, Outbox.due_at <= svc.clock())
                         .order_by(Outbox.id.desc()).limit(50)).all()
        # Reminders, nudges and alerts still to come, soonest first (cancelled ones are gone from here).
        upcoming = db.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING, Outbox.kind.in_(FOLLOW_UPS))
                           .order_by(Outbox.due_at).limit(50)).all()
        failed = db.exec(select(Outbox).where(Outbox.status == OutboxStatus.FAILED)
                        .order_by(Outbox.id.desc()).limit(50)).all()
        pending = db.exec(select(Outbox).where(Outbox.status.in_(OUTBOX_WAITING),
                                               Outbox.channel != RECRUITER_CHANNEL)).all()
        waiting, failed_events = inbox.backlog(db), inbox.failures(db)  # inbound events not run, or given up on

        for figures in svc.figures.values():  # what each channel reports (LINE: pushes this month)
            for name, value in figures(db, svc).items():
                setattr(g, name, value)
        # Provider delivery reports (SMS) and the fallbacks they started, newest first.
        deliveries = db.exec(select(Outbox)
                             .where((Outbox.delivery_status.is_not(None)) | (Outbox.fallback_for.is_not(None)))
                             .order_by(Outbox.id.desc()).limit(50)).all()
        opens = opens_by_applicant(db, ids)


        refused = refusals.recent(db)
        g.calendar_problems = calendar_problems(db, svc.settings)  # Google access errors, shown before they bite
        g.contact = contact_notes(db, svc, applicants)  # opted-out addresses, the channel used instead, same person
    names = {a.id: a.name for a in applicants}
    if mine is not None:  # an interviewer: their candidates' lines only, none of the company's plumbing
        alerts, upcoming, deliveries = ([r for r in found if r.applicant_id in names]
                                        for found in (alerts, upcoming, deliveries))
        failed, failed_events, refused, g.calendar_problems = [], [], [], []
    answered = {a.id for a in applicants if not a.handoff_open and a.state != "needs_human"}
    rows = []
    for a in applicants:
        b = bookings.get(a.id)
        rows.append({"a": a, "booking": b,
                     "created": a.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                     "when": format_slot(b.start_at, tz, "ja", b.end_at) if b else "",
                     "interviewer": svc.settings.interviewers[b.interviewer].name.ja
                     if b and b.interviewer in svc.settings.interviewers else "",
                     # Outcomes only once the interview has started; a fresh one may be taken back for a while.
                     "not_yet": refusal(svc, b) if b and b.status in LIVE_BOOKING else None,
                     "undo_until": _local(undo_until(svc, b), tz) if b else None})
    feeds = [(i, url_for("feeds.interviewer_feed", token=feed_token(svc.keys.current(KeyPurpose.FEEDS), i.id),
                         _external=True))
             for i in svc.settings.interviewers.values() if mine is None or i.id in who().interviewers]
    return render_template("recruiter.html", rows=rows, alerts=alerts, failed=failed, names=names, feeds=feeds,
                           answered=answered, handoff_reasons=HANDOFF_REASONS,
                           deliveries=deliveries, opens=opens, delivery_labels=DELIVERY_LABELS,
                           pending=len(pending) + waiting, failed_events=failed_events,
                           company=svc.settings.company.name.ja, csrf=csrf_token(),
                           jobs=svc.settings.jobs, tz=tz,
                           state_labels=STATE_LABELS, reason_labels=REASON_LABELS,
                           upcoming=upcoming, follow_up_labels=FOLLOW_UP_LABELS,
                           refusals=refused, refusal_labels=REFUSAL_LABELS, source_labels=SOURCE_LABELS,
                           full=mine is None, here="applicants")


@bp.get("/applicants/<int:applicant_id>")
@login_required
def conversation(applicant_id: int):
    """The whole conversation with one applicant, read-only (replies go through the candidate's channel)."""
    svc = services()
    with session_scope(svc.engine) as db:
        applicant = db.get(Applicant, applicant_id)
        if applicant is None or not accounts.may_see(db, who(), applicant_id):
            abort(404, "no such applicant")
        log = db.exec(select(MessageLog).where(MessageLog.applicant_id == applicant_id).order_by(MessageLog.id)).all()
    return render_template("conversation.html", a=applicant, log=log, tz=svc.settings.tz,
                           state=STATE_LABELS.get(applicant.state, applicant.state),
                           company=svc.settings.company.name.ja, csrf=csrf_token())


def _local(moment, tz) -> str | None:
    return moment.astimezone(tz).strftime("%H:%M") if moment else None


def _outcome_page(booking: Booking, outcome: str, *, action: str, refused: str | None = None,
                  until=None, undone: bool = False, status: int = 200):
    """The confirm step, the refusal, or the 'recorded, undo until …' page, for the page and the mail link alike."""
    svc = services()
    with session_scope(svc.engine) as db:
        applicant = db.get(Applicant, booking.applicant_id)
    return render_template("outcome.html", outcome=outcome, label=OUTCOME_LABELS[outcome], name=applicant.name,
                           applicant_id=applicant.id, csrf=csrf_token(), company=svc.settings.company.name.ja,
                           when=format_slot(booking.start_at, svc.settings.tz, "ja", booking.end_at),
                           action=action, refused=refused, until=_local(until, svc.settings.tz), undone=undone,
                           undo_action=action if "/outcome/" in action else
                           url_for("recruiter.act", applicant_id=applicant.id, action="undo"),
                           minutes=svc.settings.undo_minutes, back=url_for("recruiter.index")
                           if who() else None), status


def _booking_of(applicant_id: int) -> Booking:
    """The applicant's latest booking that is live or was marked (what an outcome or its undo is about)."""
    svc = services()
    with session_scope(svc.engine) as db:
        query = select(Booking).where(Booking.applicant_id == applicant_id,
                                      Booking.status != BookingStatus.CANCELLED)
        booking = db.exec(query.order_by(Booking.id.desc())).first()
    if booking is None:
        abort(404, "no interview for this applicant")
    return booking


@bp.get("/applicants/<int:applicant_id>/outcome/<outcome>")
@login_required
def confirm_outcome(applicant_id: int, outcome: str):
    """Ask before recording: a mis-tap on a busy list must not message the candidate."""
    if outcome not in OUTCOME_LABELS:
        abort(404, "unknown outcome")
    _visible(applicant_id)
    booking = _booking_of(applicant_id)
    refused = refusal(services(), booking)
    return _outcome_page(booking, outcome, action=url_for("recruiter.act", applicant_id=applicant_id, action=outcome),
                         refused=refused)


@bp.post("/applicants/<int:applicant_id>/<action>")
@login_required
def act(applicant_id: int, action: str):
    check_csrf()
    _visible(applicant_id)
    if action in OUTCOME_LABELS or action == "undo":
        return _record(applicant_id, action, url_for("recruiter.act", applicant_id=applicant_id, action=action))
    if action != "resume":
        abort(404, "unknown action")
    # The same hand-back as the inbox's: the conversation goes back to the bot and its alerts count as dealt with.
    if not replies.hand_back(services(), applicant_id, replies.Staff(who().id, who().name)):
        abort(404, "no such applicant")
    return redirect(url_for("recruiter.index"), 303)


def _audit(action: AuditAction, applicant_id: int, token: str | None, detail: str = "") -> None:
    """Who recorded or took back an outcome: the person signed in, or nobody known through a mail link."""
    me = who()
    audit.log(services(), action, by=me.id if me else None, via="mail_link" if token else "web",
              applicant_id=applicant_id, detail=detail)


def _record(applicant_id: int, action: str, here: str, token: str | None = None, outcome: str | None = None):
    """Record an outcome (only with the confirm step's 'confirm=yes') or undo one; 409 with the reason when refused."""
    svc, booking = services(), _booking_of(applicant_id)
    outcome = outcome or (action if action in OUTCOME_LABELS else booking.status)
    if outcome not in OUTCOME_LABELS:
        outcome = BookingStatus.ATTENDED
    try:
        if action == "undo":
            undo(svc, applicant_id, token)
            _audit(AuditAction.UNDO_OUTCOME, applicant_id, token)
            if token is None:
                return redirect(url_for("recruiter.index"), 303)
            return _outcome_page(_booking_of(applicant_id), outcome, action=here, undone=True)
        if request.form.get("confirm") != "yes":  # straight from a list or a script: ask first
            return _outcome_page(booking, outcome, action=here, refused=refusal(svc, booking))
        until = mark(svc, applicant_id, outcome, token)
        _audit(AuditAction.MARK_OUTCOME, applicant_id, token, outcome)
    except OutcomeRefused as exc:
        return _outcome_page(booking, outcome, action=here, refused=str(exc), status=409)
    except LookupError:
        abort(404, "no such applicant")
    return _outcome_page(booking, outcome, action=here, until=until)


@bp.route("/outcome/<token>/<outcome>/<sig>", methods=["GET", "POST"])
def outcome(token: str, outcome: str, sig: str):
    """Mark attended / no-show from the recruiter's e-mail link: signed, no login;
    GET only asks (mail scanners open links)."""
    svc = services()
    if (outcome not in OUTCOME_LABELS
            or not matches(sig, (outcome_sig(key, token, outcome) for key in svc.keys.accepted(KeyPurpose.LINKS)))):
        abort(403, "this link is not valid")
    with session_scope(svc.engine) as db:
        booking = db.exec(select(Booking).where(Booking.token == token)).first()
    if booking is None:
        abort(404, "no such interview")
    here = request.path
    if request.method == "GET":
        if until := undo_until(svc, booking):  # recorded a moment ago: the same link still offers the undo
            return _outcome_page(booking, booking.status, action=here, until=until)
        return _outcome_page(booking, outcome, action=here, refused=refusal(svc, booking))
    check_csrf()
    action = "undo" if request.form.get("undo") == "yes" else outcome
    return _record(booking.applicant_id, action, here, token=token, outcome=outcome)
