"""The candidate's own page (/c/<signed>): see the times, book with one tap, confirm, change or cancel.

Reached from one-way SMS and e-mail. A GET only shows (link previews and mail scanners open links);
every action is a POST with the form token, and goes through the conversation like a typed answer.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from bot.core.conversation import State
from bot.core.events import Cancel, ChooseSlot, Confirm, OtherDates, PickDate, Reschedule, Send, Start, Stop, WantSlots
from bot.core.messages import format_day, format_times, phone_for
from bot.core.vocab import BookingStatus, KeyPurpose
from bot.db.engine import session_scope
from bot.service import replies, throttle
from bot.service.availability import meeting_url_of
from bot.service.candidate_page import PageView, expired, find, view
from bot.service.turn import handle
from bot.web.candidate_texts import PAGE
from bot.web.common import services
from bot.web.security import check_csrf, csrf_token

bp = Blueprint("candidate", __name__)
ACTIONS = ("book", "confirm", "change", "cancel", "other", "day", "again", "stop", "start")
# Messages a candidate may write to a person from their page: enough for a conversation, too few to flood the inbox.
WRITE_LIMITS = "5 per 10 minutes; 30 per day"
WRITE_ERRORS = ("write_empty", "write_wait")


def _locale(fallback: str = "ja") -> str:
    lang = request.args.get("lang") or request.form.get("lang")
    return lang if lang in PAGE else fallback if fallback in PAGE else "ja"


def _brand(loc: str) -> dict:
    """The page's header: the company's name and logo ([brand] logo: a file under /static or an https URL)."""
    settings = services().settings
    logo = str(getattr(getattr(settings, "brand", None), "logo", "") or "")
    if logo and not logo.startswith("https://"):
        logo = url_for("static", filename=logo.removeprefix("/").removeprefix("static/"))
    return {"company": settings.company.name.get(loc), "logo": logo}


def _refuse(code: int, loc: str | None = None):
    svc, loc = services(), loc or _locale(request.accept_languages.best_match(list(PAGE)) or "ja")
    title, body = PAGE[loc]["refused"][code]
    return render_template("candidate.html", refused=(title, body), t=PAGE[loc], loc=loc, **_brand(loc),
                           phone=phone_for(svc.settings.company.phone, None, loc)), code


def _open(signed: str) -> tuple[PageView | None, int]:
    """The page of the applicant this address was signed for; 403 when forged, 410 when closed."""
    svc = services()
    if len(signed) > 200:
        return None, 403
    with session_scope(svc.engine) as session:
        applicant = find(session, svc.keys.accepted(KeyPurpose.LINKS), signed)
        if applicant is None:
            return None, 403
        page = view(session, applicant)
        if expired(applicant, page.booking, svc.clock()):
            return None, 410
        meeting = meeting_url_of(svc.calendar_for(session), page.booking) if page.booking else None
        return replace(page, meeting_url=meeting), 200


def _when(start, end, loc: str) -> tuple[str, str]:
    """(day, time) apart, so each can be kept on one line: 12月3日(木) / 14:00〜14:30."""
    tz = services().settings.tz
    begin, finish = start.astimezone(tz), end.astimezone(tz)
    return format_day(begin.date(), loc), format_times(begin, finish, loc)


@bp.get("/c/<signed>")
def page(signed: str):
    """Show the candidate's times or interview; ?slot= and ?do= only highlight, they never act."""
    found, code = _open(signed)
    if found is None:
        return _refuse(code)
    svc, a, loc = services(), found.applicant, _locale(found.applicant.locale)
    if request.args.get("do") == "cancel" and found.booking is not None and a.state in (State.BOOKED, State.CONFIRMED):
        return _cancel_question(found, signed, loc)  # a question only: the cancel itself is the POST it offers
    s, t = svc.settings, PAGE[loc]
    job = s.jobs.get(a.job_id)
    interview = _interview(found, job, loc) if found.booking is not None else None
    times = [{"key": x.key, "when": _when(x.start, x.end, loc)} for x in found.offered]
    days = [{"iso": d.isoformat(), "label": format_day(d, loc)} for d in found.days]
    # ?slot= from an e-mail link: the offered time it names (an older link may also name an interviewer).
    wanted = request.args.get("slot", "").rpartition("@")[2]
    chosen = next((x["key"] for x in times if wanted and x["key"].rpartition("@")[2] == wanted), "")
    notice = t["notice"].get(request.args.get("done", ""))
    if wanted and not chosen and found.booking is None and times:  # an older mail's time, taken since
        notice = notice or t["chosen_gone"]
    with session_scope(svc.engine) as session:
        exchange = [{"who": w, "text": text, "at": at.astimezone(s.tz).strftime("%m/%d %H:%M")}
                    for w, text, at in replies.page_thread(session, a.id)]
    return render_template("candidate.html", t=t, loc=loc, signed=signed, csrf=csrf_token(), state=a.state,
                           name=a.name, job=job.title.get(loc) if job else "", times=times, days=days,
                           interview=interview, notice=notice, chosen=chosen, place=_place(job, loc),
                           focus=request.args.get("do", ""), **_brand(loc),
                           phone=phone_for(s.company.phone, a.phone, loc),
                           other_lang="en" if loc == "ja" else "ja", exchange=exchange,
                           write_error=t[w] if (w := request.args.get("write")) in WRITE_ERRORS else None)


def _place(job, loc: str) -> str:
    """Where the interview on offer happens, in a few words: online, or the company's address."""
    if job is None:
        return ""
    return PAGE[loc]["online"] if job.mode == "online" else services().settings.company.address.get(loc)


def _interview(found: PageView, job, loc: str) -> dict:
    """What the page shows of the candidate's own booked interview."""
    s, booking = services().settings, found.booking
    who = s.interviewers.get(booking.interviewer)
    return {"when": _when(booking.start_at, booking.end_at, loc), "online": job is not None and job.mode == "online",
            "join": found.meeting_url or (job.online_url if job else ""),
            "address": s.company.address.get(loc), "map": s.company.map_url,
            "interviewer": who.name.get(loc) if who else "", "bring": job.bring.get(loc) if job else "",
            "ics": url_for("feeds.booking_ics", token=booking.token),
            "confirmed": booking.status == BookingStatus.CONFIRMED}


def _event(action: str, form, loc: str):
    """The conversation event a tap on the page stands for, and the words it is logged as."""
    t = PAGE[loc]
    match action:
        case "book" if form.get("slot"):
            return ChooseSlot(key=form["slot"][:120]), form.get("label", "")[:80] or form["slot"][:120]
        case "confirm":
            return Confirm(), t["confirm"]
        case "change":
            return Reschedule(), t["change"]
        case "cancel":
            # The page asked "really cancel?" itself, so this is the candidate's confirmed answer.
            return Cancel(sure=True), t["cancel_yes"]
        case "other":
            return OtherDates(), t["other_days"]
        case "day":
            try:
                day = date.fromisoformat(form.get("day", ""))
            except ValueError:
                return None, ""
            return PickDate(day), format_day(day, loc)
        case "again":
            return WantSlots(), t["book_again"]
        case "stop":  # one-way SMS cannot carry a STOP back: the page is where a candidate says it
            return Stop(), t["stop"]
        case "start":
            return Start(), t["start"]
    return None, ""


@bp.post("/c/<signed>/write")
def write(signed: str):
    """A message to a person from the page: into the conversation as the candidate's own words (the inbox)."""
    check_csrf()
    found, code = _open(signed)
    if found is None:
        return _refuse(code)
    svc = services()
    # An error comes back without the #write anchor: a browser runs no autofocus on a page opened at a fragment,
    # and the field with the error must get the focus (it scrolls into view by itself).
    back = {"signed": signed, "lang": request.form.get("lang") or None}
    text = request.form.get("text", "")[:replies.MAX_TEXT]
    if not text.strip():
        return redirect(url_for(".page", write="write_empty", **back), 303)
    wait, _ = throttle.take(svc, WRITE_LIMITS, [("page-write", found.applicant.token)])
    if wait:
        return redirect(url_for(".page", write="write_wait", **back), 303)
    replies.from_page(svc, found.applicant.id, text)
    return redirect(url_for(".page", done="written", _anchor="write", **back), 303)


@bp.post("/c/<signed>/<action>")
def act(signed: str, action: str):
    """One tap on the page: checked, turned into an event, run through the conversation."""
    if action not in ACTIONS:
        abort(404)
    check_csrf()
    found, code = _open(signed)
    if found is None:
        return _refuse(code)
    loc = _locale(found.applicant.locale)
    if action == "cancel" and request.form.get("sure") != "yes":
        return _cancel_question(found, signed, loc)
    event, said = _event(action, request.form, loc)
    if event is None:
        abort(400, "that choice was not understood; please reload the page")
    decision = handle(services(), found.applicant.id, event, text=said, source="page")
    if decision is None:
        return _refuse(410, loc)
    done = next((x.kind for x in decision.actions if isinstance(x, Send)), "")
    return redirect(url_for(".page", signed=signed, done=done or None, lang=request.form.get("lang") or None), 303)


def _cancel_question(found: PageView, signed: str, loc: str):
    """Ask once on the page before cancelling (no message goes out for the question)."""
    svc, t = services(), PAGE[loc]
    if found.booking is None:
        return redirect(url_for(".page", signed=signed, lang=loc), 303)
    return render_template("candidate.html", t=t, loc=loc, signed=signed, csrf=csrf_token(), asking_cancel=True,
                           name=found.applicant.name, when=_when(found.booking.start_at, found.booking.end_at, loc),
                           **_brand(loc),
                           phone=phone_for(svc.settings.company.phone, found.applicant.phone, loc))
