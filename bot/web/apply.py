"""GET/POST /apply: the candidate-facing application form, Japanese by default."""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request, url_for
from sqlmodel import select

from bot.core.channelinfo import ChannelInfo, FormField
from bot.core.conversation import State
from bot.core.messages import phone_for
from bot.db.engine import session_scope
from bot.db.models import Applicant
from bot.service.deps import Services
from bot.service.intake import ApplicationInvalid, check, submit
from bot.service.outbox import delivery_channel
from bot.service.proof import challenge as new_challenge
from bot.web import guard
from bot.web.common import locale, services
from bot.web.pagetexts import PAGE
from bot.web.recap import add_friend_url, masked_address, message_url, qr_data_uri
from bot.web.security import check_csrf, csrf_token

bp = Blueprint("apply", __name__)
HOURS = [f"{h:02d}:00" for h in range(8, 23)]


def offered(svc: Services) -> list[ChannelInfo]:
    """The channels the form offers, in the registry's order."""
    return [info for info in svc.channel_info.values() if info.offered]


def form_fields(svc: Services) -> list[FormField]:
    """The address inputs of the offered channels, each once (two channels may reach the same phone)."""
    fields = {info.form_field.name: info.form_field for info in offered(svc) if info.form_field is not None}
    return list(fields.values())


def channels_of(svc: Services) -> dict[str, list[str]]:
    """Each address input -> the channels that ask for it (the page shows it only for those, with JavaScript)."""
    found: dict[str, list[str]] = {}
    for info in offered(svc):
        if info.form_field is not None:
            found.setdefault(info.form_field.name, []).append(info.name)
    return found


def _form_data(svc: Services) -> dict:
    f = request.form
    window = None
    if f.get("window_from") or f.get("window_to") or f.get("window_days"):
        window = {"days": f.get("window_days", "any"), "from": f.get("window_from", "09:00"),
                  "to": f.get("window_to", "21:00")}
    # Only the chosen channel's address: without JavaScript every input is on the page, and what was typed into
    # another channel's (or left there from an earlier choice) is neither checked nor kept.
    chosen = svc.channel_info.get(f.get("channel") or "")
    wanted = chosen.form_field.name if chosen is not None and chosen.offered and chosen.form_field else None
    return {"name": f.get("name"), "channel": f.get("channel"), "job": f.get("job"),
            **({wanted: f.get(wanted)} if wanted else {}),
            "locale": locale(), "contact_window": window, "source": "web-form"}


def explain(field: str, problem: str, t: dict) -> str:
    """The form's own words for a field's problem: the precise reason when known, else the field's hint."""
    code = getattr(problem, "code", "invalid")
    if code in t["why"]:
        return t["why"][code].format(**problem.params)
    return t["field"].get(field, t["errors"])


def phrases(text: str) -> list[str]:
    """A label cut before each bracketed part (ベーカリースタッフ|（パート・アルバイト）): the page keeps each piece on
    one line, where the browser's own phrase guess would break inside a word."""
    return [part for part in re.split(r"(?=[（(])|(?<=[）)])", text) if part]


def _phone(svc: Services, loc: str) -> str:
    return phone_for(svc.settings.company.phone, None, loc)


def _render(job_id: str | None, errors: dict | None = None, status: int = 200, refused: guard.Refused | None = None):
    svc, loc = services(), locale()
    fields = form_fields(svc)
    # The channels' own words: their inputs' hints and the reasons of their address checks.
    why = {code: text for info in offered(svc) for code, text in info.problems.get(loc, {}).items()}
    t = {**PAGE[loc], "field": {**PAGE[loc]["field"], **{f.name: f.hint[loc] for f in fields}},
         "why": {**PAGE[loc]["why"], **guard.TEXTS[loc]["why"], **why}, "guard": guard.TEXTS[loc]}
    errors = {field: explain(field, problem, t) for field, problem in (errors or {}).items()}
    choices = [(info.name, info.offered[loc]) for info in offered(svc)]
    # Checked at first: the first channel with a transport, or one that works without it (in the chat) — not one
    # the candidate links by code, which needs the channel itself.
    default = next((i.name for i in offered(svc) if svc.enabled(i.name) or not i.links_by_code), None)
    # The channels' short names ("SMS", "メール") for "(if you choose SMS)" under an address field.
    by_field, labels = channels_of(svc), {i.name: i.label.get(loc) or i.offered[loc] for i in offered(svc)}
    chosen_job = job_id or (request.form.get("job") if request.form.get("job") in svc.settings.jobs else None)
    return render_template("apply.html", t=t, loc=loc, settings=svc.settings, job_id=job_id, hours=HOURS,
                           errors=errors, form=request.form, csrf=csrf_token(), choices=choices, fields=fields,
                           field_channels=by_field, labels=_labels(t, fields, loc),
                           field_when={name: t["needed_for"].format(channels=t["joiner"].join(labels[c] for c in chs))
                                       for name, chs in by_field.items()},
                           chosen_job=chosen_job or next(iter(svc.settings.jobs)),
                           default_channel=default, notice=refused.notice if refused else None,
                           proof_of_work=svc.settings.protection.proof_of_work,
                           company=svc.settings.company.name.get(loc), brand=svc.settings.brand,
                           retention_days=svc.settings.retention_days, phrases=phrases,
                           phone=_phone(svc, loc)), status, (refused.headers if refused else {})


def _labels(t: dict, fields: list[FormField], loc: str) -> dict[str, tuple[str, str]]:
    """Field -> (its label, the id its error summary links to), for the list of problems above the form."""
    first = next(iter(offered(services())), None)
    return {"job": (t["job"], "job"), "name": (t["name"], "name"),
            "channel": (t["channel"], f"channel-{first.name}" if first else "name"),
            **{f.name: (f.label[loc], f.name) for f in fields},
            "contact_window": (t["window"], "window_from"), "consent": (t["consent"], "consent")}


@bp.get("/brand.css")
def brand_css():
    """The company's colour as CSS variables (the CSP allows no inline style), from [brand] in the settings."""
    brand = services().settings.brand
    css = f":root {{ --brand: {brand.colour}; --brand-dark: {brand.colour_dark}; }}\n"
    return Response(css, mimetype="text/css", headers={"Cache-Control": "public, max-age=300"})


@bp.get("/apply")
@bp.get("/apply/<job_id>")
def form(job_id: str | None = None):
    if job_id is not None and job_id not in services().settings.jobs:
        abort(404, "no such job")
    return _render(job_id)


@bp.get("/apply/challenge")
def challenge():
    """A proof-of-work challenge for the form's widget (JSON, never cached)."""
    return jsonify(new_challenge(services()))


@bp.post("/apply")
@bp.post("/apply/<job_id>")
def post(job_id: str | None = None):
    check_csrf()
    svc, loc = services(), locale()
    # Rate limits and the proof of work (bot.web.guard): a 429 or 422 that says what to do instead.
    if refused := guard.screen(svc, loc, _phone(svc, loc), job_id):
        return _render(job_id, refused.errors, refused.status, refused)
    data = _form_data(svc)
    data["job"] = job_id or data["job"]
    # The candidate's agreement to the notice of purpose (APPI): without it nothing is kept, whatever else is right.
    unagreed = {} if request.form.get("consent") == "yes" else {"consent": "is required"}
    try:
        application = check(svc, data, entry="form", client=request.remote_addr)  # counts what it refuses
        if unagreed:
            return _render(job_id, unagreed, 422)
        if refused := guard.screen_destinations(svc, application, loc, _phone(svc, loc)):
            return _render(job_id, refused.errors, refused.status, refused)
        applicant, _ = submit(svc, application)
    except ApplicationInvalid as exc:
        return _render(job_id, {**exc.errors, **unagreed}, 422)
    return redirect(url_for("apply.thanks", token=applicant.token, lang=locale()), 303)


@bp.get("/apply/thanks/<token>")
def thanks(token: str):
    svc, loc = services(), locale()
    with session_scope(svc.engine) as session:
        applicant = session.exec(select(Applicant).where(Applicant.token == token)).first()
        if applicant is None:
            abort(404, "no such application")
        via = delivery_channel(svc, applicant)
    basic_id, code = svc.settings.line_basic_id, applicant.link_code
    # Kept without a greeting (the person was greeted today, bot.service.intake): no new chat or code to show, and
    # never the earlier application's, which whoever typed the same phone must not open.
    again = applicant.state == State.NEW and not code
    info = svc.channel_info.get(via)
    wrote_to = masked_address(info.address_field, info.address(applicant)) if info and not again else ""
    chosen = svc.channel_info.get(applicant.channel)
    send_code = message_url(basic_id, code) if basic_id and code else None
    company = svc.settings.company.name.get(loc)
    job = svc.settings.jobs.get(applicant.job_id)
    return render_template("thanks.html", t=PAGE[loc], loc=loc, applicant=applicant, in_chat=via == svc.stand_in,
                           again=again, company=company, brand=svc.settings.brand,
                           job=job.title.get(loc) if job else "", phrases=phrases,
                           channel=(chosen.offered or chosen.label).get(loc, applicant.channel) if chosen else "",
                           wrote_to=wrote_to, phone=phone_for(svc.settings.company.phone, applicant.phone, loc),
                           why_meet=svc.settings.company.why_meet.get(loc),
                           content=[c for c in svc.settings.content if not c.interviewer],
                           add_friend=add_friend_url(basic_id) if basic_id else None, send_code=send_code,
                           qr=qr_data_uri(send_code) if send_code else None)
