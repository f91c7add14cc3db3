"""What one e-mail shows, worked out from the message payload: short paragraphs, the times as links to the
candidate's page, the interview's facts, the page's actions, content links, our phone number. Pure: no I/O.

A link never acts by itself: mail scanners (Outlook Safe Links and the like) open every link, so each one only
opens the candidate's page with the time or the action chosen, and the page's own button (a POST) does the rest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.channels.email.texts import MAIL
from bot.core.vocab import Kind
from bot.service.candidate_page import page_url, without_reply_requests

DEFAULT_COLOUR = "#0a7a3c"  # the product's green: white on it is 5.6:1
PAGE_CLOSED = (Kind.THANKS_AFTER,)  # sent once the candidate attended: their page has closed (410), so no link to it
# Mails that carry the interview's facts as a small table (the text's "日時: …" lines move into it).
CARD_KINDS = (Kind.BOOKED, Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SOON, Kind.UNCONFIRMED_NUDGE, Kind.ALREADY_BOOKED,
              Kind.CONFIRMED, Kind.CALENDAR_MOVED_ONLY, Kind.WELCOME_BACK_BOOKED, Kind.BACK_TO_BOT_BOOKED)
# A chat button as the page's own action: (query for the page, how the link looks).
_PAGE_DO = {"confirm": ({"do": "confirm"}, "primary"), "reschedule": ({"do": "change"}, "secondary"),
            "cancel": ({"do": "cancel"}, "quiet"), "cancel:yes": ({"do": "cancel"}, "primary"),
            "keep": ({}, "secondary"), "book": ({}, "primary")}
_NUMBERED = re.compile(r"^\s*\d{1,2}\)\s")  # "1) 12月1日(火) 10:00〜10:30": a time of the text's list
# An e-mail has links, never the chat's buttons, and nobody reads an answer to it: no sentence offers either.
_BUTTONS = re.compile(r"ボタン|\bbuttons?\b|\brepl(?:y|ying)\b|お返事でも|番号（\d", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[。！？!?])|(?<=\.)(?<!e\.g\.)(?<!i\.e\.)(?=\s)")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    look: str = "secondary"  # primary (filled) | secondary (outlined) | quiet (a plain link)


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    link: Link | None = None


@dataclass(frozen=True)
class MailView:
    """Everything the HTML and the plain-text part say; both are drawn from this one object."""

    lang: str
    subject: str
    preheader: str
    company: str
    colour: str
    logo: str = ""
    paragraphs: tuple[str, ...] = ()
    times: tuple[Link, ...] = ()
    other_days: Link | None = None
    facts: tuple[Fact, ...] = ()
    calendar: Link | None = None
    actions: tuple[Link, ...] = ()
    content_title: str = ""
    content: tuple[Link, ...] = ()
    phone: str = ""
    answer: Link | None = None
    page: Link | None = None
    unsubscribe: str = ""
    t: dict = field(default_factory=dict)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two #rrggbb colours."""
    def lum(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b_ = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b_
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def usable_colour(colour: str) -> str:
    """The brand colour when white text on it and it as text on white both reach 4.5:1, else our green."""
    return colour if colour and _HEX.match(colour) and contrast(colour, "#ffffff") >= 4.5 else DEFAULT_COLOUR


def _sentences_without(line: str, pattern: re.Pattern) -> str:
    kept = "".join(s for s in _SENTENCE.split(line) if s and not pattern.search(s))
    return kept.strip()


def split_text(text: str, payload: dict, with_times: bool, with_card: bool) -> tuple[list[str], str]:
    """The message's lines as short paragraphs, without what the mail shows in its own way (the numbered times,
    the content links, the facts' lines); and the line that introduced the content links, if any."""
    facts = payload.get("facts") or {}
    content_urls = [link.get("url") for link in payload.get("links") or [] if link.get("url")]
    card = (payload.get("mail") or {}).get("card") or {}
    fact_values = ({facts.get(k) for k in ("slot", "place", "ics_url", "current")}
                   | {card.get(k) for k in ("interviewer", "bring", "ics")}) - {None, ""}
    lines, header = [], ""
    for raw in text.split("\n"):
        line = raw.strip()
        if content_urls and any(url in line for url in content_urls):
            if lines and not header and lines[-1]:
                header = lines.pop()  # the content's own heading ("面接の前に、私たちのことを…")
            continue
        if with_times and _NUMBERED.match(line):
            continue
        if with_card and (line.partition(": ")[2] in fact_values or line.partition("：")[2] in fact_values):
            continue
        line = _sentences_without(line, _BUTTONS)
        lines.append(line)
    return [line for line in lines if line], header


def build(payload: dict, loc: str, base_url: str, secret_key: str, token: str, unsubscribe: str) -> MailView:
    """The view of one mail to one candidate (`token`: their applicant token, for the page's signed links)."""
    t = MAIL[loc]
    facts, kind, mail = payload.get("facts") or {}, payload.get("kind", ""), payload.get("mail") or {}
    company = mail.get("company") or facts.get("company", "")
    page_open = kind not in PAGE_CLOSED

    def page(**query: str) -> str:
        return page_url(secret_key, base_url, token, **query)

    times, actions, other = [], [], None
    for button in payload.get("buttons") or [] if page_open else []:
        data, label = str(button.get("data", "")), str(button.get("label", ""))
        if data.startswith("slot:"):
            times.append(Link(label, page(slot=data.removeprefix("slot:")), "time"))
        elif data == "other":
            other = Link(t["other_days"], page())
        elif data in _PAGE_DO:
            query, look = _PAGE_DO[data]
            actions.append(Link(label, page(**query), look))
        elif data.startswith("date:") and not any(a.label == t["pick_day"] for a in actions):
            actions.append(Link(t["pick_day"], page(), "primary"))  # the page lists the days as buttons
    staff = bool(payload.get("staff"))
    with_card = kind in CARD_KINDS and bool(facts.get("slot") or mail.get("card"))
    words = payload.get("text", "") if staff else without_reply_requests(payload.get("text", ""))
    paragraphs, header = split_text(words, payload, bool(times), with_card)
    content = tuple(Link(link.get("title") or link["url"], link["url"]) for link in payload.get("links") or []
                    if str(link.get("url", "")).startswith(("https://", "http://")))
    card = _facts(mail.get("card") or {}, facts, t) if with_card else ()
    ics = (mail.get("card") or {}).get("ics") or facts.get("ics_url") or ""
    # The line an inbox shows after the subject: the choice to make, or the interview's time, else the first words.
    if times:
        preheader = t["preheader_times"].format(first=times[0].label)
    elif card:
        preheader = f"{card[0].label}: {card[0].value} / {next(iter(paragraphs), '')}"[:90]
    else:
        preheader = next(iter(paragraphs), "")[:90]
    return MailView(
        lang=loc, subject=t["subjects"].get(kind, t["subjects"][""]).format(company=company), preheader=preheader,
        company=company, colour=usable_colour(mail.get("colour", "")), logo=mail.get("logo", ""),
        paragraphs=tuple(paragraphs), times=tuple(times), other_days=other, facts=card,
        calendar=Link(t["calendar"], ics) if with_card and ics.startswith(("https://", "http://")) else None,
        actions=tuple(actions), content_title=header or t["content_title"], content=content,
        phone=facts.get("phone", ""), answer=Link(t["answer"], page() + "#write", "primary") if staff and page_open
        else None, page=Link(t["page"], page()) if page_open else None, unsubscribe=unsubscribe, t=t)


def _facts(card: dict, facts: dict, t: dict) -> tuple[Fact, ...]:
    """The interview as labelled rows: from the prepared card (date, place, interviewer, what to bring), or from
    the payload's own facts when the row was written before the card existed."""
    when = card.get("when") or facts.get("slot", "")
    rows = [Fact(t["when"], when)] if when else []
    if card.get("online"):
        join = card.get("join", "")
        rows.append(Fact(t["where"], t["online"], Link(t["join"], join) if join.startswith("https://") else None))
    elif card.get("address"):
        where = card.get("map", "")
        rows.append(Fact(t["where"], card["address"], Link(t["map"], where) if where.startswith("https://") else None))
    elif facts.get("place"):
        rows.append(Fact(t["where"], facts["place"]))
    if card.get("interviewer"):
        rows.append(Fact(t["interviewer"], card["interviewer"]))
    if card.get("bring"):
        rows.append(Fact(t["bring"], card["bring"]))
    return tuple(rows)
