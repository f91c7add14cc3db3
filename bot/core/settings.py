"""The company settings file (TOML): parsed into frozen dataclasses, every mistake named by key."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from limits import parse_many

from bot.core import saved_replies as saved
from bot.core.reminders import Policy, PolicyError, parse_policy
from calendars.base import SlotRules

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CONTENT_KINDS = ("video", "article", "message")
READABLE = 4.5  # WCAG AA for normal text: what white text on the brand colour, and the colour on white, must reach
_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


class SettingsError(ValueError):
    """A settings file problem; the message names the key and what is wrong."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"settings: {key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Text:
    """A candidate-facing text in Japanese with an optional English form."""

    ja: str
    en: str = ""

    def get(self, locale: str) -> str:
        return self.en if locale == "en" and self.en else self.ja


@dataclass(frozen=True)
class Company:
    name: Text
    phone: str
    timezone: ZoneInfo
    address: Text
    map_url: str
    why_meet: Text


@dataclass(frozen=True)
class ContentLink:
    kind: str
    title: Text
    url: str
    thumbnail: str = ""
    interviewer: str = ""  # an interviewer's own message: shown only to candidates meeting that interviewer


@dataclass(frozen=True)
class Interviewer:
    id: str
    name: Text
    email: str = ""
    calendar: str = "local"


@dataclass(frozen=True)
class Job:
    id: str
    title: Text
    interviewers: tuple[str, ...]
    mode: str = "online"
    online_url: str = ""
    bring: Text = Text("")
    assignment: str = "pool"  # pool: any free interviewer (least booked first) | panel: all of them together
    # The summary /apply shows above the form (each optional): what it pays, where the work is, when.
    pay: Text = Text("")
    place: Text = Text("")
    hours: Text = Text("")

    @property
    def summary(self) -> dict[str, Text]:
        """The summary fields the company filled in, in the order the form shows them."""
        return {key: text for key, text in (("pay", self.pay), ("place", self.place), ("hours", self.hours))
                if text.ja}


@dataclass(frozen=True)
class Brand:
    """[brand]: what makes the candidate pages and mails look like the company's own."""

    colour: str = "#0a7a3c"  # buttons, links and the header rule; readable with white text and as text on white
    logo: str = ""  # a file under bot/static ("brand/soyokaze.svg") or an https:// URL; "": the name alone
    privacy_url: str = ""  # the company's privacy policy, linked from the form's consent box

    @property
    def colour_dark(self) -> str:
        """The colour a quarter darker: hover and pressed buttons."""
        return "#" + "".join(f"{int(int(self.colour[i:i + 2], 16) * 0.75):02x}" for i in (1, 3, 5))


@dataclass(frozen=True)
class CalendarOptions:
    """[calendar]: how bookings are written to Google Calendar and how often it is read."""

    send_updates: str = "all"     # all | externalOnly | none (Google's invitation e-mails)
    all_day_blocks: bool = True   # an all-day event blocks the day even when shown as free
    meet: bool = True             # online interviews get a Google Meet link
    cache_seconds: int = 60       # free/busy answers reused for this long
    poll_seconds: int = 60        # how often the worker reads recruiter-side changes


@dataclass(frozen=True)
class Protection:
    """[protection]: what keeps the public form and the intake API from sending messages nobody asked for
    (SMS pumping, spam in the company's name). docs/security.md explains each; the defaults are safe."""

    # Countries (ISO codes) whose phone numbers we accept; empty: only the company's own country.
    countries: tuple[str, ...] = ()
    sms_mobile_only: bool = True  # an SMS goes only to a mobile number (not landline, premium-rate, shared-cost)
    greetings_per_day: int = 1  # greetings one address receives in 24 hours, however many applications
    # Rate limits on the form (the `limits` library's notation; several separated by ";"). Not on the intake API.
    form_per_client: str = "5 per 10 minutes; 20 per day"  # per client network (/24, /48)
    form_per_destination: str = "3 per day"  # per phone number or e-mail address
    proof_of_work: bool = True  # the form solves a small proof of work (ALTCHA, self-hosted) before it posts
    proof_of_work_cost: int = 50_000  # how much work: higher is slower for a script and for a phone


SMS_MODES = ("auto", "one_way", "two_way")
# Twilio's country guidelines: two-way SMS is not supported to these destinations (Japan: "Twilio 双方向 SMS
# サポート: なし"), so a candidate there can never reply; "auto" sends them links instead of numbers to reply.
ONE_WAY_REGIONS = frozenset({"JP"})


@dataclass(frozen=True)
class SmsOptions:
    """[sms]: whether an SMS candidate can reply (two-way) or gets links to their own page (one-way)."""

    mode: str = "auto"  # auto: by the destination country | one_way | two_way: every number
    countries: dict[str, str] = field(default_factory=dict)  # ISO region ("JP", "US") -> one_way | two_way

    def mode_for(self, region: str | None) -> str:
        """one_way or two_way for a number of this region (None: unknown)."""
        if region and region in self.countries:
            return self.countries[region]
        if self.mode != "auto":
            return self.mode
        return "one_way" if region in ONE_WAY_REGIONS else "two_way"


@dataclass(frozen=True)
class Settings:
    company: Company
    content: tuple[ContentLink, ...]
    interviewers: dict[str, Interviewer]
    jobs: dict[str, Job]
    rules: SlotRules
    offer_count: int
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    line_basic_id: str = ""  # the LINE account's basic id (@xxxx), for add-friend links
    policy: Policy = field(default_factory=Policy)  # reminders, nudges and quiet hours together
    rate_limits: dict[str, float] = field(default_factory=dict)  # channel -> messages a second
    calendar: CalendarOptions = field(default_factory=CalendarOptions)
    sms: SmsOptions = field(default_factory=SmsOptions)
    # When a person answers hand-offs (weekday 0 = Monday -> spans, company time); default: the working hours.
    office_hours: dict[int, list[tuple[time, time]]] = field(default_factory=dict)
    # [outcomes]: a recorded attended / no-show may be taken back this long; the candidate hears after
    undo_minutes: int = 5
    protection: Protection = field(default_factory=Protection)
    # [privacy] retention_days: people with no activity for this many days are deleted by the worker; 0: never.
    retention_days: int = 0
    country: str = "JP"  # the company's own country ([company] country, else from its phone's +code, else JP)
    # [saved_replies] title = "text with {name}, {interview}, ...": the inbox's saved replies until admins edit them
    saved_replies: tuple[tuple[str, str], ...] = saved.DEFAULTS
    brand: Brand = field(default_factory=Brand)

    @property
    def tz(self) -> ZoneInfo:
        return self.company.timezone

    def job(self, job_id: str) -> Job:
        return self.jobs[job_id]


def _req(table: dict, key: str, path: str, kind: type = str) -> Any:
    if key not in table:
        raise SettingsError(f"{path}.{key}" if path else key, "is required")
    return _typed(table[key], f"{path}.{key}" if path else key, kind)


def _typed(value: Any, key: str, kind: type) -> Any:
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise SettingsError(key, f"must be {kind.__name__}, got {type(value).__name__} {value!r}")
    if kind is str and not value.strip():
        raise SettingsError(key, "must not be empty")
    return value


def _opt(table: dict, key: str, path: str, default: Any, kind: type = str) -> Any:
    return _typed(table[key], f"{path}.{key}", kind) if key in table else default


def _text(table: dict, key: str, path: str, required: bool = True) -> Text:
    ja = _req(table, key, path) if required else _opt(table, key, path, "")
    return Text(ja, _opt(table, f"{key}_en", path, ""))


def _clock(value: Any, key: str) -> time:
    try:
        hh, mm = _typed(value, key, str).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError) as exc:
        if isinstance(exc, SettingsError):
            raise
        raise SettingsError(key, f"must be a time like '09:30', got {value!r}") from None


def _positive(table: dict, key: str, path: str, default: int, minimum: int = 1) -> int:
    value = _opt(table, key, path, default, int)
    if value < minimum:
        raise SettingsError(f"{path}.{key}", f"must be at least {minimum}, got {value}")
    return value


def _working_hours(table: dict, path: str = "schedule.working_hours") -> dict[int, list[tuple[time, time]]]:
    hours: dict[int, list[tuple[time, time]]] = {}
    for name in table:
        if name not in WEEKDAYS:
            raise SettingsError(f"{path}.{name}", f"unknown weekday; use one of {', '.join(WEEKDAYS)}")
    for index, name in enumerate(WEEKDAYS):
        key = f"{path}.{name}"
        spans = []
        for i, span in enumerate(_opt(table, name, path, [], list)):
            start, sep, end = _typed(span, f"{key}[{i}]", str).partition("-")
            if not sep:
                raise SettingsError(f"{key}[{i}]", f"must look like '10:00-12:00', got {span!r}")
            begin, finish = _clock(start.strip(), f"{key}[{i}]"), _clock(end.strip(), f"{key}[{i}]")
            if finish <= begin:
                raise SettingsError(f"{key}[{i}]", "ends before it starts")
            spans.append((begin, finish))
        hours[index] = sorted(spans)
    if not any(hours.values()):
        raise SettingsError(path, "no hours on any day: nothing could ever fall inside them")
    return hours


def parse_settings(data: dict) -> Settings:
    """Validate a parsed TOML document and build Settings."""
    company = _req(data, "company", "", dict)
    tz_name = _opt(company, "timezone", "company", "Asia/Tokyo")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError("company.timezone", f"unknown time zone {tz_name!r}") from None
    comp = Company(
        name=_text(company, "name", "company"),
        phone=_req(company, "phone", "company"),
        timezone=tz,
        address=_text(company, "address", "company", required=False),
        map_url=_opt(company, "map_url", "company", ""),
        why_meet=_text(company, "why_meet", "company", required=False),
    )
    content = []
    for i, item in enumerate(_opt(data, "content", "", [], list)):
        path = f"content[{i}]"
        kind = _req(item, "kind", path)
        if kind not in CONTENT_KINDS:
            raise SettingsError(f"{path}.kind", f"must be one of {', '.join(CONTENT_KINDS)}, got {kind!r}")
        url = _req(item, "url", path)
        if not url.startswith(("https://", "http://")):
            raise SettingsError(f"{path}.url", f"must be an http(s) URL, got {url!r}")
        content.append(ContentLink(kind, _text(item, "title", path), url, _opt(item, "thumbnail", path, ""),
                                   _opt(item, "interviewer", path, "")))
    interviewers: dict[str, Interviewer] = {}
    for i, item in enumerate(_req(data, "interviewers", "", list)):
        path = f"interviewers[{i}]"
        iid = _req(item, "id", path)
        if iid in interviewers:
            raise SettingsError(f"{path}.id", f"duplicate interviewer id {iid!r}")
        interviewers[iid] = Interviewer(iid, _text(item, "name", path), _opt(item, "email", path, ""),
                                        _opt(item, "calendar", path, "local"))
    if not interviewers:
        raise SettingsError("interviewers", "at least one interviewer is needed")
    for i, link in enumerate(content):
        if link.interviewer and link.interviewer not in interviewers:
            raise SettingsError(f"content[{i}].interviewer", f"unknown interviewer {link.interviewer!r}")
    jobs: dict[str, Job] = {}
    for i, item in enumerate(_req(data, "jobs", "", list)):
        path = f"jobs[{i}]"
        jid = _req(item, "id", path)
        if jid in jobs:
            raise SettingsError(f"{path}.id", f"duplicate job id {jid!r}")
        ids = tuple(_req(item, "interviewers", path, list))
        if not ids:
            raise SettingsError(f"{path}.interviewers", "at least one interviewer is needed")
        for who in ids:
            if who not in interviewers:
                raise SettingsError(f"{path}.interviewers", f"unknown interviewer {who!r}")
        mode = _opt(item, "mode", path, "online")
        if mode not in ("online", "office"):
            raise SettingsError(f"{path}.mode", f"must be 'online' or 'office', got {mode!r}")
        assignment = _opt(item, "assignment", path, "pool")
        if assignment not in ("pool", "panel"):
            raise SettingsError(f"{path}.assignment", f"must be 'pool' or 'panel', got {assignment!r}")
        jobs[jid] = Job(jid, _text(item, "title", path), ids, mode, _opt(item, "online_url", path, ""),
                        _text(item, "bring", path, required=False), assignment,
                        *(_text(item, key, path, required=False) for key in ("pay", "place", "hours")))
    if not jobs:
        raise SettingsError("jobs", "at least one job is needed")
    schedule = _opt(data, "schedule", "", {}, dict)
    rules = SlotRules(
        tz=tz,
        working_hours=_working_hours(_req(schedule, "working_hours", "schedule", dict)),
        slot_minutes=_positive(schedule, "slot_minutes", "schedule", 30, 5),
        buffer_minutes=_positive(schedule, "buffer_minutes", "schedule", 0, 0),
        min_notice_minutes=_positive(schedule, "min_notice_minutes", "schedule", 120, 0),
        horizon_days=_positive(schedule, "horizon_days", "schedule", 14),
        max_per_day=_positive(schedule, "max_per_day", "schedule", 8),
    )
    quiet = _opt(data, "quiet_hours", "", {}, dict)
    reminders = _opt(data, "reminders", "", {}, dict)
    templates = _opt(data, "templates", "", {}, dict)
    for locale, table in templates.items():
        if locale not in ("ja", "en"):
            raise SettingsError(f"templates.{locale}", "locale must be 'ja' or 'en'")
        for name, value in _typed(table, f"templates.{locale}", dict).items():
            _typed(value, f"templates.{locale}.{name}", str)
    try:
        day_before_at = _clock(reminders.get("day_before_at", "12:00"), "reminders.day_before_at")
        quiet_start = _clock(quiet.get("start", "21:00"), "quiet_hours.start")
        quiet_end = _clock(quiet.get("end", "08:00"), "quiet_hours.end")
        policy = parse_policy(reminders, _opt(data, "nudges", "", {}, dict), day_before_at=day_before_at,
                              hours_before=_positive(reminders, "hours_before", "reminders", 3),
                              quiet_start=quiet_start, quiet_end=quiet_end)
        rate_limits = parse_rates(_opt(data, "rate_limits", "", {}, dict))
    except PolicyError as exc:
        raise SettingsError(exc.key, exc.problem) from None
    return Settings(
        company=comp,
        content=tuple(content),
        interviewers=interviewers,
        jobs=jobs,
        rules=rules,
        offer_count=_positive(schedule, "offer_count", "schedule", 3),
        templates={k: dict(v) for k, v in templates.items()},
        line_basic_id=_opt(_opt(data, "line", "", {}, dict), "basic_id", "line", ""),
        policy=policy,
        rate_limits=rate_limits,
        calendar=_calendar_options(_opt(data, "calendar", "", {}, dict)),
        sms=_sms_options(_opt(data, "sms", "", {}, dict)),
        office_hours=(_working_hours(_opt(company, "office_hours", "company", {}, dict), "company.office_hours")
                      if "office_hours" in company else rules.working_hours),
        undo_minutes=_positive(_opt(data, "outcomes", "", {}, dict), "undo_minutes", "outcomes", 5, 0),
        protection=_protection(_opt(data, "protection", "", {}, dict)),
        retention_days=_positive(_opt(data, "privacy", "", {}, dict), "retention_days", "privacy", 0, 0),
        country=_country(company),
        saved_replies=_saved_replies(data),
        brand=_brand(_opt(data, "brand", "", {}, dict)),
    )


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours, 1 to 21."""
    def luminance(colour: str) -> float:
        channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b_ = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _brand(table: dict) -> Brand:
    known = Brand.__dataclass_fields__
    for key in table:
        if key not in known:
            raise SettingsError(f"brand.{key}", f"unknown key; use one of {', '.join(known)}")
    colour = _opt(table, "colour", "brand", Brand.colour)
    if not _HEX.match(colour):
        raise SettingsError("brand.colour", f"must be a hex colour like '#a8501e', got {colour!r}")
    if len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    colour = colour.lower()
    # White on the colour and the colour on white are the same pair, so one ratio answers both uses.
    if (ratio := contrast(colour, "#ffffff")) < READABLE:
        raise SettingsError("brand.colour", f"{colour} is too pale: white text on it (and it as text on white) has a "
                                            f"contrast of {ratio:.2f}:1, below the {READABLE}:1 needed to read it; "
                                            "choose a darker shade")
    logo = _opt(table, "logo", "brand", "")
    if logo and not logo.startswith("https://"):
        if logo.startswith(("/", "http:")) or ".." in Path(logo).parts:
            raise SettingsError("brand.logo", f"must be a file under bot/static or an https:// URL, got {logo!r}")
        if not resources.files("bot").joinpath("static", *Path(logo).parts).is_file():
            raise SettingsError("brand.logo", f"no such file under bot/static: {logo!r}")
    privacy = _opt(table, "privacy_url", "brand", "")
    if privacy and not privacy.startswith(("https://", "http://")):
        raise SettingsError("brand.privacy_url", f"must be an http(s) URL, got {privacy!r}")
    return Brand(colour=colour, logo=logo, privacy_url=privacy)


def _saved_replies(data: dict) -> tuple[tuple[str, str], ...]:
    """[saved_replies]: title = text; the built-in ones when the section is absent."""
    if "saved_replies" not in data:
        return saved.DEFAULTS
    found = []
    for title, body in _opt(data, "saved_replies", "", {}, dict).items():
        key = f"saved_replies.{title}"
        if not isinstance(body, str) or not body.strip():
            raise SettingsError(key, "must be a text (the reply, with fields like {name})")
        if len(title) > saved.MAX_TITLE or len(body) > saved.MAX_BODY:
            raise SettingsError(key, f"title at most {saved.MAX_TITLE} and text at most {saved.MAX_BODY} characters")
        if (why := saved.problem(body)) is not None:
            raise SettingsError(key, why)
        found.append((title, body.strip()))
    return tuple(found)


def _region(value: Any, key: str) -> str:
    if not (isinstance(value, str) and len(value) == 2 and value.isalpha() and value.isupper()):
        raise SettingsError(key, f"must be a two-letter country code like JP or US, got {value!r}")
    return value


def _country(company: dict) -> str:
    """The company's country: [company] country, else the +code of its phone, else Japan."""
    if "country" in company:
        return _region(company["country"], "company.country")
    phone = str(company.get("phone", "")).strip()
    if phone.startswith("+"):
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
        except phonenumbers.NumberParseException:
            raise SettingsError("company.phone", f"is not a phone number: {phone!r}") from None
        if region and region != "ZZ":
            return region
    return "JP"


def _rates(table: dict, key: str, default: str) -> str:
    value = _opt(table, key, "protection", default)
    try:
        parse_many(value)  # the parser the form's limiter uses, so a typo fails at start-up
    except ValueError:
        raise SettingsError(f"protection.{key}", f"must be limits like '5 per 10 minutes; 20 per day', got {value!r}")
    return value


def _protection(table: dict) -> Protection:
    known = Protection.__dataclass_fields__
    for key in table:
        if key not in known:
            raise SettingsError(f"protection.{key}", f"unknown key; use one of {', '.join(known)}")
    countries = tuple(_region(c, f"protection.countries[{i}]")
                      for i, c in enumerate(_opt(table, "countries", "protection", [], list)))
    return Protection(countries=countries,
                      sms_mobile_only=_opt(table, "sms_mobile_only", "protection", True, bool),
                      greetings_per_day=_positive(table, "greetings_per_day", "protection", 1),
                      form_per_client=_rates(table, "form_per_client", Protection.form_per_client),
                      form_per_destination=_rates(table, "form_per_destination", Protection.form_per_destination),
                      proof_of_work=_opt(table, "proof_of_work", "protection", True, bool),
                      proof_of_work_cost=_positive(table, "proof_of_work_cost", "protection", 50_000, 1000))


def _calendar_options(table: dict) -> CalendarOptions:
    send = _opt(table, "send_updates", "calendar", "all")
    if send not in ("all", "externalOnly", "none"):
        raise SettingsError("calendar.send_updates", f"must be 'all', 'externalOnly' or 'none', got {send!r}")
    return CalendarOptions(send, _opt(table, "all_day_blocks", "calendar", True, bool),
                           _opt(table, "meet", "calendar", True, bool),
                           _positive(table, "cache_seconds", "calendar", 60, 0),
                           _positive(table, "poll_seconds", "calendar", 60, 60))


def _sms_options(table: dict) -> SmsOptions:
    for key in table:
        if key not in ("mode", "countries"):
            raise SettingsError(f"sms.{key}", "unknown key; use 'mode' or 'countries'")
    mode = _opt(table, "mode", "sms", "auto")
    if mode not in SMS_MODES:
        raise SettingsError("sms.mode", f"must be 'auto', 'one_way' or 'two_way', got {mode!r}")
    countries = {}
    for region, value in _opt(table, "countries", "sms", {}, dict).items():
        if not (len(region) == 2 and region.isalpha() and region.isupper()):
            raise SettingsError(f"sms.countries.{region}", "must be a two-letter country code like JP or US")
        if value not in ("one_way", "two_way"):
            raise SettingsError(f"sms.countries.{region}", f"must be 'one_way' or 'two_way', got {value!r}")
        countries[region] = value
    return SmsOptions(mode, countries)


def load_settings(path: str | None = None) -> Settings:
    """Read the settings file at path, or the built-in demo company when path is None."""
    if path is None:
        raw = resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8")
        source = "built-in demo settings"
    else:
        file = Path(path)
        if not file.is_file():
            raise SettingsError("SOKURESU_SETTINGS", f"no such file: {path}")
        raw, source = file.read_text(encoding="utf-8"), path
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(source, f"not valid TOML: {exc}") from None
    return parse_settings(data)


def parse_rates(table: dict) -> dict[str, float]:
    """[rate_limits] channel = messages per second (the whole deployment's: bot.service.sendrates)."""
    rates = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise PolicyError(f"rate_limits.{name}", f"must be messages per second above 0, got {value!r}")
        rates[name] = float(value)
    return rates
