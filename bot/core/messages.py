"""Render a message kind into a channel-neutral payload: text, buttons and content links."""
from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

from bot.core.office_hours import answer_time
from bot.core.settings import ContentLink, Job, Settings, SettingsError
from bot.core.texts import TEXTS
from bot.core.unbroken import NBSP, WJ
from bot.core.vocab import Kind
from calendars.base import Slot

WEEKDAYS_JA = "月火水木金土日"
FIELDS = {"name", "company", "job", "why_meet", "slots", "content", "phone", "current", "date", "count",
          "example", "dates", "slot", "place", "interviewer", "bring", "ics_url", "url", "address", "map_url",
          "when", "time"}


HOME_REGION = "JP"  # the company's own number is written as dialled in Japan (03-6820-1234)


@dataclass(frozen=True)
class Recipient:
    """Who the message is for, as far as the wording goes."""

    name: str
    locale: str
    job_id: str
    phone: str | None = None  # the candidate's own number (E.164): where they will call us from


def phone_for(number: str, candidate_phone: str | None, locale: str) -> str:
    """The company's number as this candidate dials it: as written (03-6820-1234) in Japan, +81 3-6820-1234 abroad.

    Abroad is a candidate whose own number is not Japanese, or who gave none and reads English: +81 also works
    from a phone in Japan, while 03 cannot be dialled from anywhere else."""
    return number if _in_japan(candidate_phone, locale) else _international(number)


@lru_cache(maxsize=4096)
def _in_japan(candidate_phone: str | None, locale: str) -> bool:
    # Parsing a number costs more than the rest of a message's wording: each is worked out once a process.
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(candidate_phone)) == HOME_REGION
    except phonenumbers.NumberParseException:  # no number (or not one): the language is all there is to go by
        return locale != "en"


@lru_cache(maxsize=64)
def _international(number: str) -> str:
    try:
        ours = phonenumbers.parse(number, HOME_REGION)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_valid_number(ours):
        return number
    return phonenumbers.format_number(ours, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_slot(slot: Slot | datetime, tz: ZoneInfo, locale: str, end: datetime | None = None) -> str:
    """12月3日(木) 14:00〜14:30 / Thu 3 Dec, 14:00–14:30, in the company's zone."""
    start = (slot.start if isinstance(slot, Slot) else slot).astimezone(tz)
    finish = (slot.end if isinstance(slot, Slot) else end or slot).astimezone(tz)
    # No-break space and word joiner: on a phone the date and its times stay on one line.
    if locale == "en":
        return f"{start:%a}{NBSP}{start.day}{NBSP}{start:%b},{NBSP}{start:%H:%M}–{WJ}{finish:%H:%M}"
    return f"{start.month}月{start.day}日({WEEKDAYS_JA[start.weekday()]}){NBSP}{start:%H:%M}〜{WJ}{finish:%H:%M}"


def format_times(start: datetime, end: datetime, locale: str, joiner: str = "") -> str:
    """14:00〜14:30 / 14:00–14:30, for times already in the company's zone; `joiner` goes after the dash."""
    return f"{start:%H:%M}{'–' if locale == 'en' else '〜'}{joiner}{end:%H:%M}"


def format_day(day: date, locale: str) -> str:
    if locale == "en":
        return f"{day:%a} {day.day} {day:%b}"
    return f"{day.month}月{day.day}日({WEEKDAYS_JA[day.weekday()]})"


def fill(template: str, fields: dict) -> str:
    """Fill the {fields} in; a value that ends with a full stop ("Soyokaze Bakery Co.") takes the template's own."""
    out, stop = [], ""
    for literal, name, spec, _ in string.Formatter().parse(template):
        if stop and literal[:1] == stop:
            literal = literal[1:]  # "…Co." + "." is one full stop, not two
        out.append(literal)
        stop = ""
        if name is not None:
            value = format(fields[name], spec or "")
            out.append(value)
            stop = value[-1:] if value[-1:] in (".", "。") else ""
    return "".join(out)


def _numbered(lines: list[str]) -> str:
    return "\n".join(f"{i}) {line}" for i, line in enumerate(lines, 1))


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def validate_templates(settings: Settings) -> None:
    """Fail at start when a template override names an unknown message or an unknown {field}."""
    for locale, table in settings.templates.items():
        for kind, text in table.items():
            if kind not in TEXTS[locale]:
                raise SettingsError(f"templates.{locale}.{kind}", "no such message")
            try:
                names = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            except ValueError as exc:
                raise SettingsError(f"templates.{locale}.{kind}", f"bad braces: {exc}") from None
            if unknown := names - FIELDS:
                raise SettingsError(f"templates.{locale}.{kind}", f"unknown field(s) {sorted(unknown)}")


class Renderer:
    """Builds payloads from the settings' texts; one per app."""

    def __init__(self, settings: Settings, public_base_url: str):
        self.settings = settings
        self.base = public_base_url

    def text(self, locale: str, kind: str) -> str:
        return self.settings.templates.get(locale, {}).get(kind) or TEXTS[locale][kind]

    def wording(self, locale: str, kind: str, job: Job | None) -> str:
        """The text of `kind` for this job: an online interview is joined, never visited (no お越し / safe trip)."""
        online = f"{kind}_online"
        if job is None or job.mode != "online" or online not in TEXTS[locale]:
            return self.text(locale, kind)
        own = self.settings.templates.get(locale, {})  # the company's own words win, the online ones first
        return own.get(online) or own.get(kind) or TEXTS[locale][online]

    def content(self, job: Job | None, interviewer: str | None = None) -> list[ContentLink]:
        """The content links to share: an interviewer's own message only when the candidate meets that interviewer."""
        def meets(who: str) -> bool:
            if interviewer is not None:  # booked: the interviewer is known
                return who == interviewer or (job is not None and job.assignment == "panel" and who in job.interviewers)
            return job is not None and who in job.interviewers and (len(job.interviewers) == 1
                                                                     or job.assignment == "panel")
        return [c for c in self.settings.content if not c.interviewer or meets(c.interviewer)]

    def place(self, job_id: str, locale: str, meeting_url: str | None = None) -> str:
        job, company = self.settings.jobs.get(job_id), self.settings.company
        if job is not None and job.mode == "online":
            # A Meet link made for this very booking wins over the job's standing online URL.
            return self.text(locale, "online").format(url=meeting_url or job.online_url or "-")
        return self.text(locale, "office").format(address=company.address.get(locale), map_url=company.map_url)

    def content_links(self, job, interviewer: str | None, locale: str) -> list[dict]:
        """The videos and articles for this job and interviewer, as a message payload lists them."""
        return [{"kind": c.kind, "title": c.title.get(locale), "url": c.url, "thumbnail": c.thumbnail}
                for c in self.content(job, interviewer)]

    def content_block(self, links: list[dict], locale: str) -> str:
        """The content links as plain text lines under their header ('' without links)."""
        if not links:
            return ""
        lines = [f"・{link['title']} {link['url']}" for link in links]
        return self.text(locale, "content_header") + "\n".join(lines) + "\n"

    def answer_when(self, now: datetime, loc: str) -> str:
        """When a person answers a hand-off, in words: 本日18時までに / 明日（12月3日）10時以降に."""
        hours = self.settings.office_hours or self.settings.rules.working_hours
        answer, today = answer_time(now, hours, self.settings.tz), now.astimezone(self.settings.tz).date()
        day = answer.at.date()
        if answer.by:
            kind = "answer_by_today"
        else:
            kind = {0: "answer_from_today", 1: "answer_from_tomorrow"}.get((day - today).days, "answer_from_day")
        at = answer.at
        clock = f"{at:%H:%M}" if loc == "en" else f"{at.hour}時" + (f"{at.minute}分" if at.minute else "")
        short = f"{at:%a} {at.day} {at:%b}" if loc == "en" else f"{at.month}月{at.day}日"
        return self.text(loc, kind).format(time=clock,
                                           date=format_day(day, loc) if kind == "answer_from_day" else short)

    def render(self, kind: str, who: Recipient, slots: tuple[Slot, ...] = (), dates: tuple[date, ...] = (),
               current: Slot | None = None, booking_token: str | None = None, meeting_url: str | None = None,
               now: datetime | None = None) -> dict:
        """Return {'kind', 'text', 'buttons', 'links', 'facts'} for one message to one candidate; the greeting
        also has 'parts', the few short messages a chat shows instead of the one text."""
        s, loc, tz = self.settings, who.locale if who.locale in TEXTS else "ja", self.settings.tz
        job = s.jobs.get(who.job_id)
        # Variants of one message: with or without times on offer, with or without a live booking.
        if kind == Kind.GREETING and not slots:
            kind_text = "greeting_no_slots"
        elif kind == Kind.HANDOFF and slots:
            kind_text = "handoff_offered"
        elif kind in (Kind.STOPPED, Kind.WELCOME_BACK_HANDOFF) and current is not None:
            kind_text = f"{kind}_booked"
        else:
            kind_text = kind
        links = self.content_links(job, current.interviewer if current else None, loc) if kind == Kind.GREETING else []
        content = self.content_block(links, loc)
        booked = slots[0] if kind == Kind.BOOKED and slots else current
        fields = _Blank(
            name=who.name, company=s.company.name.get(loc), job=job.title.get(loc) if job else who.job_id,
            why_meet=s.company.why_meet.get(loc), phone=phone_for(s.company.phone, who.phone, loc),
            content=content,
            slots=_numbered([format_slot(x, tz, loc) for x in slots]), count=len(slots),
            dates=_numbered([format_day(d, loc) for d in dates]),
            example=format_day(dates[0], loc) if dates else "",
            date=format_day(slots[0].start.astimezone(tz).date(), loc) if slots else "",
            current=format_slot(current, tz, loc) if current else "",
            when=self.answer_when(now, loc) if now is not None else "",
        )
        if booked is not None:
            interviewer = s.interviewers.get(booked.interviewer)
            fields.update(slot=format_slot(booked, tz, loc), place=self.place(who.job_id, loc, meeting_url),
                          interviewer=interviewer.name.get(loc) if interviewer else "",
                          bring=(job.bring.get(loc) if job else "") or "-",
                          ics_url=f"{self.base}/booking/{booking_token}.ics" if booking_token else "")
        text = fill(self.wording(loc, kind_text, job), fields).strip()
        # Structured facts for channels that word things their own way (short SMS, e-mail subject and .ics).
        facts = {k: fields[k] for k in ("name", "company", "phone", "slot", "current", "place", "ics_url", "when")
                 if fields.get(k)}
        facts.update(slot_starts=[x.start.isoformat() for x in slots], days=[d.isoformat() for d in dates],
                     current_start=current.start.isoformat() if current else None, booking_token=booking_token,
                     online=job is not None and job.mode == "online")  # short texts word a visit or a video call
        if booked is not None:
            facts.update(slot_start=booked.start.isoformat(), slot_end=booked.end.isoformat())
            if meeting_url:  # this interview's own link (Google Meet): a card's join button opens it
                facts["meeting_url"] = meeting_url
        buttons = self._buttons(kind, loc, slots, dates)
        payload = {"kind": kind, "text": text, "buttons": buttons, "links": links, "facts": facts}
        if kind == Kind.GREETING:
            payload["parts"] = self.greeting_parts(loc, kind_text, job, fields, links, buttons)
        return payload

    def greeting_parts(self, loc: str, kind_text: str, job: Job | None, fields: dict, links: list[dict],
                       buttons: list[dict]) -> list[dict]:
        """The greeting as a chat shows it: a few short messages, each {'text', 'links', 'buttons'} (any of them).

        A chat (web chat, LINE) reads better as short bubbles than as one long text, and the times then sit at the
        bottom, on screen, as buttons; SMS and e-mail keep the one `text`. A company that wrote its own greeting,
        but not its own short parts, gets its text as one message with the cards and buttons under it (without the
        content lines: the cards carry them)."""
        own = self.settings.templates.get(loc, {})
        if (own.get(kind_text) or own.get(f"{kind_text}_online")) and not own.get("greeting_intro"):
            text = fill(self.wording(loc, kind_text, job), _Blank(fields, content="")).strip()
            return [{k: v for k, v in (("text", text), ("links", links), ("buttons", buttons)) if v}]
        parts = [{"text": fill(self.text(loc, "greeting_intro"), fields).strip()}]
        if links:
            parts.append({"links": links})
        if kind_text == "greeting_no_slots":
            parts.append({"text": fill(self.text(loc, "greeting_wait"), fields).strip()})
            return parts
        # Numbered as the conversation counts them: a typed "2" books the second button's time.
        numbered = [dict(b, label=f"{i}) {b['label']}") if b["data"].startswith("slot:") else b
                    for i, b in enumerate(buttons, 1)]
        parts.append({"text": fill(self.text(loc, "greeting_ask"), fields).strip(), "buttons": numbered})
        return parts

    def _buttons(self, kind: str, loc: str, slots: tuple[Slot, ...], dates: tuple[date, ...]) -> list[dict]:
        tz = self.settings.tz
        if kind in (Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SOON, Kind.UNCONFIRMED_NUDGE):
            return [{"label": self.text(loc, "confirm_button"), "data": "confirm"},
                    {"label": self.text(loc, "reschedule_button"), "data": "reschedule"},
                    {"label": self.text(loc, "cancel_button"), "data": "cancel"}]
        if kind == Kind.NUDGE:
            return [{"label": self.text(loc, "pick_button"), "data": "book"}]
        if kind in (Kind.BOOKED, Kind.ALREADY_BOOKED, Kind.CANCEL_KEPT, Kind.CONFIRMED, Kind.WELCOME_BACK_BOOKED,
                    Kind.BACK_TO_BOT_BOOKED):
            return [{"label": self.text(loc, "reschedule_button"), "data": "reschedule"},
                    {"label": self.text(loc, "cancel_button"), "data": "cancel"}]
        if kind in (Kind.CANCELLED, Kind.WITHDRAWN):
            return [{"label": self.text(loc, "book_button"), "data": "book"}]
        if kind == Kind.CONFIRM_CANCEL:  # the yes button names what it does: an old "参加します" tap never cancels
            return [{"label": self.text(loc, "cancel_yes_button"), "data": "cancel:yes"},
                    {"label": self.text(loc, "keep_button"), "data": "keep"}]
        if kind in (Kind.DATE_MENU, Kind.NO_SLOTS_ON_DATE):  # numbered as in the text: a typed "2" is the second day
            return [{"label": f"{i}) {format_day(d, loc)}", "data": f"date:{d.isoformat()}"}
                    for i, d in enumerate(dates, 1)]
        if slots:  # a time offered for the job's pool: the interviewer is chosen when it is booked
            return [{"label": format_slot(x, tz, loc), "data": f"slot:{x.time_key}"} for x in slots] + [
                {"label": self.text(loc, "other_dates_button"), "data": "other"}]
        return []
