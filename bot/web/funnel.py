"""The recruiter's figures: today's and tomorrow's interviews (who needs a call), the funnel from application to
interview, and every applicant with search, filters, paging and CSV. An interviewer sees only their own."""
from __future__ import annotations

import csv
import io
from datetime import date

import phonenumbers
from flask import Blueprint, Response, render_template, request, url_for
from sqlmodel import select

from bot.core.messages import format_slot
from bot.core.vocab import BookingStatus
from bot.db.engine import session_scope
from bot.db.models import Applicant, Booking
from bot.service import accounts
from bot.service import funnel as figures
from bot.service.today import CALL_REASONS, interviews, unreachable
from bot.web.auth import staff_only, who
from bot.web.charts import bars
from bot.web.common import locale, services
from bot.web.funnel_texts import BY, CALL, PAGE, STATE, STEP, duration
from bot.web.security import csrf_token

bp = Blueprint("funnel", __name__, url_prefix="/recruiter")
login_required = staff_only()
PAGE_SIZE = 50
FILTER_KEYS = ("q", "state", "job", "interviewer", "channel", "source", "from", "to")


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _filters() -> figures.Filters:
    """The request's filters, always narrowed to what the person signed in may see."""
    a = request.args
    return figures.Filters(q=a.get("q", "")[:100], state=a.get("state", ""), job=a.get("job", ""),
                           interviewer=a.get("interviewer", ""), channel=a.get("channel", ""),
                           source=a.get("source", ""), date_from=_day(a.get("from")), date_to=_day(a.get("to")),
                           only=accounts.visible_ids(who()))


def _country_code(svc) -> int | None:
    return phonenumbers.country_code_for_region(svc.settings.country) or None


class Labels:
    """How the pages name jobs, channels, interviewers and sources in the reader's language."""

    def __init__(self, svc, loc: str):
        self.svc, self.loc = svc, loc

    def job(self, job_id: str) -> str:
        job = self.svc.settings.jobs.get(job_id)
        return job.title.get(self.loc) or job.title.ja if job else job_id

    def channel(self, name: str) -> str:
        info = self.svc.channel_info.get(name)
        return (info.label.get(self.loc) or info.label.get("ja") or name) if info else name

    def interviewer(self, ident: str) -> str:
        person = self.svc.settings.interviewers.get(ident)
        return (person.name.get(self.loc) or person.name.ja) if person else ident

    def phone(self, e164: str | None) -> str:
        """A stored number as people dial it here: +819012345678 → 090-1234-5678 (abroad: +1 415-555-0100)."""
        if not e164:
            return ""
        try:
            number = phonenumbers.parse(e164, None)
        except phonenumbers.NumberParseException:
            return e164
        same = phonenumbers.region_code_for_number(number) == self.svc.settings.country
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL if same
                                          else phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def source(self, source: str | None) -> str:
        return source or ("（不明）" if self.loc == "ja" else "(unknown)")

    def state(self, state: str) -> str:
        return STATE[self.loc].get(state, state)

    def week(self, monday: date) -> str:
        return PAGE[self.loc]["week_of"].format(d=f"{monday.month}/{monday.day}")

    def group(self, by: str, key) -> str:
        return {"job": self.job, "source": self.source, "channel": self.channel, "week": self.week}[by](key)


def _choices(svc, labels: Labels) -> dict:
    """The filters' options: jobs, channels candidates can use, interviewers (an interviewer: only themselves)."""
    me = who()
    mine = None if me.sees_everyone else set(me.interviewers)
    with session_scope(svc.engine) as db:
        found = figures.sources(db, accounts.visible_ids(me))
    return {"sources": [(s, s) for s in found],
            "jobs": [(j, labels.job(j)) for j in svc.settings.jobs],
            "channels": [(c, labels.channel(c)) for c, info in svc.channel_info.items() if info.offered],
            "interviewers": [(i, labels.interviewer(i)) for i in svc.settings.interviewers
                             if mine is None or i in mine],
            "states": list(STATE[labels.loc].items())}


def _render(template: str, **extra):
    svc, loc = services(), locale()
    args = {k: v for k, v in request.args.items() if k != "lang"}
    return render_template(template, loc=loc, t=PAGE[loc], csrf=csrf_token(), company=svc.settings.company.name.ja,
                           switch_url=url_for(request.endpoint, **{**args, "lang": "en" if loc == "ja" else "ja"}),
                           **extra)


@bp.get("/today")
@login_required
def today():
    """Today's and tomorrow's interviews, confirmed or not, and who needs a call."""
    svc, loc = services(), locale()
    tz, labels = svc.settings.tz, Labels(svc, locale())
    with session_scope(svc.engine) as db:
        found = interviews(db, svc.clock(), tz, accounts.visible_ids(who()))
        lost = unreachable(db, svc.clock(), accounts.visible_ids(who()))
    first = svc.clock().astimezone(tz).date()
    days = [(PAGE[loc]["today_h"], first), (PAGE[loc]["tomorrow_h"], date.fromordinal(first.toordinal() + 1))]
    rows = [{"i": i, "when": format_slot(i.booking.start_at, tz, loc, i.booking.end_at),
             "time": i.booking.start_at.astimezone(tz).strftime("%H:%M"), "job": labels.job(i.applicant.job_id),
             "interviewer": labels.interviewer(i.booking.interviewer), "channel": labels.channel(i.applicant.channel),
             "call": [CALL[loc][r] for r in CALL_REASONS if r in i.call]} for i in found]
    lost = [{"a": a, "job": labels.job(a.job_id), "channel": labels.channel(a.channel),
             "created": a.created_at.astimezone(tz).strftime("%m/%d %H:%M"),
             "why": CALL[loc]["blocked" if a.blocked else "unreachable"]} for a in lost]
    return _render("today.html", days=days, rows=rows, calls=[r for r in rows if r["call"]], here="today",
                   lost=lost, labels=labels, company_phone=svc.settings.company.phone)


def _journeys() -> list[figures.Journey]:
    svc = services()
    with session_scope(svc.engine) as db:
        return figures.journeys(db, _filters(), svc.settings.tz, _country_code(svc))


@bp.get("/funnel")
@login_required
def funnel():
    """The funnel, overall and per job, source, channel or week, with the delays and how each step is counted."""
    svc, loc = services(), locale()
    t, labels = PAGE[loc], Labels(svc, loc)
    by = request.args.get("by") if request.args.get("by") in figures.DIMENSIONS else "job"
    items = _journeys()  # read once, grouped twice: the chosen way and by week
    total, groups = figures.funnel(items, by)
    steps = [(s, STEP[loc][s]) for s in figures.STEPS]
    chart = bars([(name, total.counts[s], _count_text(total, s, loc)) for s, name in steps],
                 t["chart_title"], t["chart_desc"], "funnel-chart")
    _, weeks = (total, groups) if by == "week" else figures.funnel(items, "week")
    weekly = bars([(labels.week(w.key), w.contact(0.9) or 0,
                    f"90%: {duration(w.contact(0.9), loc)} ({t['p50']} {duration(w.contact(0.5), loc)})")
                   for w in weeks[:8]], t["weeks_title"], t["weeks_desc"], "weeks-chart")
    return _render("funnel.html", total=total, groups=groups, by=by, steps=steps, chart=chart, weekly=weekly,
                   labels=labels, dims=[(d, BY[loc][d]) for d in figures.DIMENSIONS], duration=duration,
                   choices=_choices(svc, labels), f=request.args.to_dict(), by_name=BY[loc][by], here="funnel")


def _count_text(row: figures.Row, step: str, loc: str) -> str:
    share = row.share(step)
    return f"{row.counts[step]}" + (f" ({share:.0%})" if share is not None else "") + ("人" if loc == "ja" else "")


@bp.get("/applicants")
@login_required
def applicants():
    """Every applicant the person may see, newest first, searched and filtered, a page at a time."""
    svc, loc = services(), locale()
    labels = Labels(svc, loc)
    number = max(1, request.args.get("page", 1, type=int) or 1)
    with session_scope(svc.engine) as db:
        found, total = figures.page(db, _filters(), svc.settings.tz, number, PAGE_SIZE, _country_code(svc))
        interviews_of = _latest_bookings(db, [a.id for a in found])
    pages = max(1, -(-total // PAGE_SIZE))
    args = {k: v for k, v in request.args.items() if k in FILTER_KEYS and v}
    if loc != "ja" or request.args.get("lang"):
        args["lang"] = loc
    tz = svc.settings.tz
    rows = [{"a": a, "created": a.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
             "job": labels.job(a.job_id), "channel": labels.channel(a.channel), "state": labels.state(a.state),
             "when": format_slot(b.start_at, tz, loc, b.end_at) if (b := interviews_of.get(a.id)) else "",
             "interviewer": labels.interviewer(b.interviewer) if b else ""} for a in found]
    link = lambda n: url_for("funnel.applicants", **args, page=n)  # noqa: E731
    return _render("applicants.html", rows=rows, total=total, number=number, pages=pages,
                   first=(number - 1) * PAGE_SIZE + 1 if rows else 0, last=(number - 1) * PAGE_SIZE + len(rows),
                   prev=link(number - 1) if number > 1 else None, next=link(number + 1) if number < pages else None,
                   csv_url=url_for("funnel.applicants_csv", **args), choices=_choices(svc, labels), labels=labels,
                   f=request.args.to_dict(), here="search")


def _latest_bookings(db, ids: list[int]) -> dict[int, Booking]:
    """Each applicant's latest booking that is not cancelled, else their latest."""
    found: dict[int, Booking] = {}
    for b in db.exec(select(Booking).where(Booking.applicant_id.in_(ids or [-1])).order_by(Booking.id)).all():
        kept = found.get(b.applicant_id)
        if b.status != BookingStatus.CANCELLED or kept is None or kept.status == BookingStatus.CANCELLED:
            found[b.applicant_id] = b
    return found


# A spreadsheet runs a cell that starts like a formula (OWASP "CSV injection"); candidates type these cells.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """A CSV cell that Excel shows as text: a leading apostrophe before anything that would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(name: str, header: list[str], rows) -> Response:
    """UTF-8 with a byte-order mark, so Excel in Japan opens it as UTF-8 instead of Shift_JIS."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return Response(out.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.get("/applicants.csv")
@login_required
def applicants_csv():
    """Every applicant the filters select (not one page), for a spreadsheet."""
    svc, loc = services(), locale()
    labels, tz = Labels(svc, loc), svc.settings.tz
    t = PAGE[loc]
    with session_scope(svc.engine) as db:
        query = figures.applicant_query(_filters(), tz, _country_code(svc)).order_by(Applicant.id)
        found = db.exec(query).all()
        booked = _latest_bookings(db, [a.id for a in found])
        journeys = {j.id: j for j in figures.journeys(db, _filters(), tz, _country_code(svc))}
    header = ["ID", t["applied_at"], t["candidate"], "phone" if loc == "en" else "電話番号",
              "e-mail" if loc == "en" else "メール", t["job"], t["source"], t["channel"], t["state"], t["interview"],
              t["interviewer"], t["first_contact"] + (" (min)" if loc == "en" else "（分）")]
    rows = []
    for a in found:
        b, j = booked.get(a.id), journeys.get(a.id)
        rows.append([a.id, a.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"), a.name, labels.phone(a.phone),
                     a.email or "", labels.job(a.job_id), a.source or "", labels.channel(a.channel),
                     labels.state(a.state), b.start_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if b else "",
                     labels.interviewer(b.interviewer) if b else "",
                     f"{j.first_contact.total_seconds() / 60:.1f}" if j and j.first_contact is not None else ""])
    return _csv("applicants.csv", header, rows)


@bp.get("/funnel.csv")
@login_required
def funnel_csv():
    """The funnel as on the page: one line for all, then one per group, counts and delays in minutes."""
    svc, loc = services(), locale()
    labels = Labels(svc, loc)
    by = request.args.get("by") if request.args.get("by") in figures.DIMENSIONS else "job"
    total, groups = figures.funnel(_journeys(), by)
    t = PAGE[loc]
    unit = " (min)" if loc == "en" else "（分）"
    header = [BY[loc][by]] + [STEP[loc][s] for s in figures.STEPS] + [
        f"{t['first_contact']} p50{unit}", f"{t['first_contact']} p90{unit}", f"{t['to_booking']} p50{unit}"]

    def line(name: str, row: figures.Row) -> list:
        delays = [row.contact(0.5), row.contact(0.9), row.booking(0.5)]
        return [name] + [row.counts[s] for s in figures.STEPS] + [
            f"{d / 60:.1f}" if d is not None else "" for d in delays]
    rows = [line(t["total"], total)] + [line(labels.group(by, g.key), g) for g in groups]
    return _csv(f"funnel-{by}.csv", header, rows)
