"""Applications from the JSON API and the web form: validated, normalised, stored once, greeted at once."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Mapping

import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.core import countries
from bot.core.channelinfo import ChannelInfo
from bot.core.events import Applied
from bot.core.settings import WEEKDAYS, Settings
from bot.core.vocab import AlertReason, RefusalReason
from bot.db.engine import session_scope
from bot.db.models import Applicant
from bot.service import forgotten, prefetch, refusals
from bot.service.availability import FETCHED_SINCE, prefetch_busy
from bot.service.delivery import lease_to_self, prepare
from bot.service.delivery_record import Prepared
from bot.service.deps import Services
from bot.service.outbox import alert
from bot.service.people import greeted, hold_addresses, recognise, take_line
from bot.service.turn import Turn

WINDOW_DAYS = ("any", "weekdays", "weekends", *WEEKDAYS)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
GREETINGS_WITHIN = timedelta(hours=24)  # [protection] greetings_per_day counts the greetings of the last 24 hours
_LINK_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed on a phone


class Problem(str):
    """One field's problem: the API's English reason, with a code and values the form words in its own language;
    `refused` names the protection that refused the address (counted in bot.service.refusals)."""

    def __new__(cls, reason: str, code: str = "invalid", refused: RefusalReason | None = None, **params):
        problem = super().__new__(cls, reason)
        problem.code, problem.refused, problem.params = code, refused, params
        return problem


@dataclass(frozen=True)
class Refused:
    """An address the destination rules refused: why, the channel chosen, the address itself."""

    reason: RefusalReason
    channel: str | None
    destination: str | None


class ApplicationInvalid(ValueError):
    """Per-field problems with an application, as {field: reason}; `refused`: those the destination rules raised."""

    def __init__(self, errors: dict[str, str], refused: tuple[Refused, ...] = ()):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors, self.refused = errors, refused


@dataclass(frozen=True)
class Application:
    name: str
    channel: str
    job: str
    locale: str = "ja"
    addresses: Mapping[str, str | None] = field(default_factory=dict)  # Applicant column -> the address given
    contact_window: dict | None = None
    source: str | None = None
    external_id: str | None = None
    entry: str = "api"  # where it came in: "api" or "form" (for bot.service.refusals)
    client: str | None = None  # the client's remote address, for the same


def _text(data: dict, key: str, errors: dict, limit: int, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[key] = "is required"
        return None
    if not isinstance(value, str):
        errors[key] = "must be a string"
        return None
    if "\x00" in value:  # no field of ours holds a NUL (PostgreSQL refuses it in text)
        errors[key] = Problem("must not contain NUL characters", "control")
        return None
    # Full-width letters, digits and @ (ｈａｎａｋｏ＠…, ０９０…) are what a Japanese keyboard types: normalise them.
    value = unicodedata.normalize("NFKC", value).strip()
    if len(value) > limit:
        errors[key] = Problem(f"must be at most {limit} characters (got {len(value)})", "too_long", limit=limit,
                              length=len(value))
        return None
    return value


# A name is said back to the candidate in the company's name (greeting, SMS, e-mail To:): it may hold no link
# (a scheme, www., or a domain with a path or a common ending) and no character that hides or reorders text.
_LINK = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*://|www\.|\b[a-z0-9-]+\.(?:com|net|org|info|biz|xyz|top|io|co|me|ly|jp|cn|ru|"
                   r"[a-z]{2,}/)\b)")
_ZERO_WIDTH = re.compile("[\u200b-\u200d\u2060\ufeff]")
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def name_problem(name: str) -> Problem | None:
    """Why this name cannot be said back as it is (None: it can)."""
    if _LINK.search(name):
        return Problem("must not contain a link", "name_link")
    if _BIDI.search(name) or any(unicodedata.category(c) == "Cc" for c in name):
        return Problem("must not contain control or text-direction characters", "name_control")
    return None


def normalise_phone(raw: str, region: str = "JP") -> str:
    """Return the number in E.164 (090-1234-5678 -> +819012345678); ValueError when it is not a number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _window(value, errors: dict) -> dict | None:
    if value in (None, "", {}):
        return None
    if not isinstance(value, dict):
        errors["contact_window"] = 'must be an object like {"days": "weekdays", "from": "18:00", "to": "21:00"}'
        return None
    days, start, end = value.get("days", "any"), value.get("from", "00:00"), value.get("to", "23:59")
    if days not in WINDOW_DAYS:
        errors["contact_window"] = f"days must be one of {', '.join(WINDOW_DAYS)}"
    elif not (isinstance(start, str) and _CLOCK.match(start) and isinstance(end, str) and _CLOCK.match(end)):
        errors["contact_window"] = "from and to must be times like 18:00"
    elif start == end:
        errors["contact_window"] = "from and to must differ"
    else:
        return {"days": days, "from": start, "to": end}
    return None


def offered(channels: Mapping[str, ChannelInfo]) -> list[str]:
    """The channels a candidate may choose, in the registry's order."""
    return [name for name, info in channels.items() if info.offered]


def _screened(info: ChannelInfo, address: str, settings: Settings) -> Problem | None:
    """Why no application may give this address, whatever its channel: a number outside the allowed countries
    (a recruiter's call abroad costs too, and a fallback or nudge may text any number given), or the channel's own
    screen (a premium-rate number)."""
    allowed = countries.allowed(settings)
    if info.region_of is not None and (region := info.region_of(address)) not in allowed:
        return Problem(f"is a number in {region or 'no country'}; we accept numbers in {', '.join(allowed)} only",
                       "country", refused=RefusalReason.COUNTRY, countries=countries.names(allowed))
    return info.screen_address(address) if info.screen_address is not None else None


def screen(column: str, address: str, settings: Settings, channels: Mapping[str, ChannelInfo]) -> Problem | None:
    """The destination rules for an address given outside the form and the API (a phone typed inside LINE)."""
    info = next((i for i in channels.values() if i.address_field == column), None)
    return _screened(info, address, settings) if info is not None else None


def _addresses(data: dict, channels: Mapping[str, ChannelInfo], errors: dict,
               settings: Settings) -> dict[str, str | None]:
    """Each address given, checked and normalised by the first channel keeping its column, whatever the channel
    chosen (the phone is also how the recruiter calls)."""
    found: dict[str, str | None] = {}
    for info in channels.values():
        column = info.address_field
        if column is None or column in found:
            continue
        value = _text(data, column, errors, info.address_length)
        if value and info.normalise_address is not None:
            try:
                value = info.normalise_address(value)
            except ValueError as exc:
                errors[column] = str(exc)
        if value and column not in errors and (problem := _screened(info, value, settings)):
            errors[column] = problem
        found[column] = value
    return found


def _reachable(info: ChannelInfo, addresses: dict, errors: dict, settings: Settings) -> None:
    """The chosen channel needs its address (unless the candidate links it by code), one it can reach."""
    column = info.address_field
    if column is None or info.links_by_code or column in errors:
        return
    if not (address := addresses.get(column)):
        errors[column] = Problem(f"is required when the channel is {info.name}", f"{info.name}_needs_{column}")
    elif info.check_address is not None and (problem := info.check_address(address, settings)):
        errors[column] = problem


def _refused(errors: dict, addresses: dict, channel: str | None) -> tuple[Refused, ...]:
    """The addresses the destination rules refused, for the record (bot.service.refusals)."""
    return tuple(Refused(problem.refused, channel, addresses.get(column)) for column, problem in errors.items()
                 if getattr(problem, "refused", None) is not None)


def validate(data, settings: Settings, channels: Mapping[str, ChannelInfo]) -> Application:
    """Check and normalise an application; raise ApplicationInvalid with every problem at once."""
    if not isinstance(data, dict):
        raise ApplicationInvalid({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    name = _text(data, "name", errors, 200, required=True)
    if name is not None:
        name = _ZERO_WIDTH.sub("", name).strip()  # invisible: a name of only these is no name
        if not name:
            errors["name"] = "is required"
        elif problem := name_problem(name):
            errors["name"], name = problem, None
    choices = offered(channels)
    channel = _text(data, "channel", errors, 10, required=True)
    if channel and channel not in choices:
        errors["channel"] = f"must be one of {', '.join(choices)}"
    job = _text(data, "job", errors, 64, required=True)
    if job and job not in settings.jobs:
        errors["job"] = f"unknown job; open jobs: {', '.join(settings.jobs)}"
    locale = _text(data, "locale", errors, 5) or "ja"
    if locale not in ("ja", "en"):
        errors["locale"] = "must be ja or en"
    addresses = _addresses(data, channels, errors, settings)
    if channel in choices:
        _reachable(channels[channel], addresses, errors, settings)
    window = _window(data.get("contact_window"), errors)
    source = _text(data, "source", errors, 100)
    external_id = _text(data, "external_id", errors, 200)
    if errors:
        raise ApplicationInvalid(errors, _refused(errors, addresses, channel if channel in choices else None))
    return Application(name=name, channel=channel, job=job, locale=locale, addresses=addresses, contact_window=window,
                       source=source, external_id=external_id)


def _greeted_today(session: Session, svc: Services, addresses: Mapping[str, str | None], now: datetime) -> int | None:
    """The application greeted in the last 24 hours at one of these addresses, when that used up the person's
    greetings for the day ([protection] greetings_per_day), else None."""
    hold_addresses(session, addresses)  # a second application to the same address waits for this one's greeting
    limit = svc.settings.protection.greetings_per_day
    return greeted(session, addresses, now - GREETINGS_WITHIN, limit)


def _not_greeted(session: Session, svc: Services, app: Application, applicant: Applicant, greeted_id: int,
                 now: datetime) -> None:
    """Keep an application that gets no greeting of its own: the person's conversation under way continues
    (their replies reach the application that greeted them), and the recruiter hears of the new one."""
    info = svc.channel_info[app.channel]
    refusals.record_in(session, now, RefusalReason.GREETED_TODAY, source=app.entry, channel=app.channel,
                       destination=info.address(applicant) or next((a for a in app.addresses.values() if a), None),
                       client=app.client, job_id=app.job, applicant_id=applicant.id)
    alert(session, svc, applicant, AlertReason.APPLIED_AGAIN, f"#{greeted_id}")


def _link_code() -> str:
    return "".join(secrets.choice(_LINK_ALPHABET) for _ in range(6))


def _existing(svc: Services, external_id: str) -> Applicant | None:
    with session_scope(svc.engine) as session:
        return session.exec(select(Applicant).where(Applicant.external_id == external_id)).first()


def check(svc: Services, data, *, entry: str, client: str | None = None) -> Application:
    """validate() for an entry point ("form", "api"): each address the destination rules refused is counted with
    the client's address (bot.service.refusals) before ApplicationInvalid goes up."""
    try:
        app = validate(data, svc.settings, svc.channel_info)
    except ApplicationInvalid as exc:
        job = data.get("job") if isinstance(data, dict) else None
        job = job if isinstance(job, str) and job in svc.settings.jobs else None  # a list is no key (and no job)
        for refused in exc.refused:
            refusals.record(svc, refused.reason, source=entry, channel=refused.channel,
                            destination=refused.destination, client=client, job_id=job)
        raise
    return replace(app, entry=entry, client=client)


def submit(svc: Services, app: Application) -> tuple[Applicant, bool]:
    """Store the application and greet the candidate in the same transaction; (applicant, created)."""
    if app.external_id and (found := _existing(svc, app.external_id)) is not None:
        return found, False
    line_user_id = app.addresses.get("line_user_id")
    info = svc.channel_info[app.channel]
    # The channel links by code (LINE) and the application did not name the candidate's user: give them a code.
    link_code = _link_code() if info.links_by_code and not app.addresses.get(info.address_field) else None
    fetched = prefetch_busy(svc, [(app.job, False)])  # the greeting's times, read before any lock is taken
    sender, ready = svc.process.send_after, []  # a web process sends the greeting itself once this commits
    try:
        with session_scope(svc.engine) as session:
            if fetched is not None:
                session.info[FETCHED_SINCE] = fetched
            now = svc.clock()
            greeted = _greeted_today(session, svc, app.addresses, now)
            # A LINE user applying again: this application takes over their LINE conversation, unless an
            # earlier one keeps it for its booked interview (bot.service.people); then another channel greets them.
            # Not when this one is not greeted: the conversation under way keeps LINE.
            keeper = take_line(session, svc, line_user_id, now) if line_user_id and greeted is None else None
            own_line = line_user_id if keeper is None and greeted is None else None
            applicant = Applicant(name=app.name, channel=app.channel, job_id=app.job, locale=app.locale,
                                  contact_window=app.contact_window, source=app.source, external_id=app.external_id,
                                  created_at=now, updated_at=now, **{**app.addresses, "line_user_id": own_line},
                                  link_code=link_code)
            session.add(applicant)
            session.flush()
            recognise(session, applicant, line_user_id)
            forgotten.recall(session, svc, applicant)  # an erased person's opt-out, if this address had one
            if keeper is not None:
                alert(session, svc, applicant, AlertReason.LINE_KEPT, f"#{keeper.id}")
            if greeted is None:
                prefetch.put(session, "live_booking", {applicant.id: None})  # new: nothing booked to look for
                Turn(svc, session, applicant).run(Applied())
            else:
                _not_greeted(session, svc, app, applicant, greeted, now)
            if sender is not None and (mine := lease_to_self(svc, session.info.get("enqueued", []), sender.owner)):
                session.flush()
                ready = [p for p in (prepare(session, svc, row) for row in mine) if isinstance(p, Prepared)]
    except IntegrityError:
        # A concurrent request with the same external id (or LINE user) won the race: answer with that one.
        if app.external_id and (found := _existing(svc, app.external_id)) is not None:
            return found, False
        raise ApplicationInvalid({"line_user_id": "is already linked to another application"}) from None
    if ready:
        sender.submit(ready)
    svc.process.wake.set()
    return applicant, True
