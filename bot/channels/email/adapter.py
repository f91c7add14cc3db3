"""E-mail over SMTP: multipart text + HTML in UTF-8, List-Unsubscribe, an .ics invitation with a booking."""
from __future__ import annotations

import html
import re
import smtplib
import ssl
import unicodedata
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import unquote, urlsplit

from icalendar import Calendar, vCalAddress

from bot.config import Config
from bot.core.transport import Outgoing, PermanentError, TemporaryError
from bot.core.unbroken import nowrap_html
from bot.core.vocab import Kind
from bot.service.candidate_page import page_url, without_reply_requests
from bot.service.shortlinks import unsubscribe_url
from calendars.ics import single_event

TIMEOUT = 10.0  # seconds per step of the SMTP conversation: the most one send holds its thread, for each step
SUBJECTS = {
    "ja": {"greeting": "ご応募ありがとうございます（{company}）", "booked": "面接のご予約が確定しました（{company}）",
           "cancelled": "面接のキャンセルを承りました（{company}）", "stopped": "配信を停止しました（{company}）",
           "": "{company} 採用担当からのご連絡"},
    "en": {"greeting": "Thank you for applying to {company}", "booked": "Your interview with {company} is booked",
           "cancelled": "Your interview with {company} is cancelled", "stopped": "You will hear no more from {company}",
           "": "A message from the {company} hiring team"},
}
FOOTER = {
    "ja": ("ご予約・ご確認・変更・キャンセルは、こちらのページからどうぞ（このメールへのご返信は届きません）: {page}",
           "今後のご案内が不要な場合はこちら: {unsubscribe}"),
    "en": ("Book, check, change or cancel your interview on your page (replies to this e-mail are not read): {page}",
           "No more messages: {unsubscribe}"),
}
ANSWER_HERE = {"ja": "ご返信は、こちらのページからお願いいたします（このメールへのご返信は届きません）: {page}",
               "en": "To answer, please use your page (replies to this e-mail are not read): {page}"}
PAGE_CLOSED = ("thanks_after",)  # sent once the candidate attended: their page has closed, so no link to it
# Buttons of a message, as links to the candidate's page: one per time, and the page's own buttons.
ACTIONS = {"ja": "こちらから、ご自身のページでお手続きいただけます（押すとページが開きます）:",
           "en": "Use the links below; each opens your own page:"}
_PAGE_DO = {"confirm": {"do": "confirm"}, "reschedule": {"do": "change"}, "cancel": {"do": "cancel"},
            "cancel:yes": {"do": "cancel"}, "keep": {}, "other": {}, "book": {}}
_URL = re.compile(r"https?://[^\s<>（）「」]+")
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>]+")


def link_end(url: str) -> str:
    """The link without what follows it in the sentence: a closing bracket it did not open ("Online (https://…)"),
    a full stop or a comma."""
    while url and (url[-1] in ".,;:!?" or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


class MailChannel:
    """Send one payload as an e-mail through the SMTP server named by SMTP_URL."""

    def __init__(self, config: Config, timeout: float | None = None):
        self.url, self.config, self.timeout = urlsplit(config.smtp_url), config, timeout or TIMEOUT
        host = urlsplit(config.public_base_url).hostname or "localhost"
        self.sender = parseaddr(config.mail_from or f"no-reply@{host}")

    def send(self, message: Outgoing) -> str | None:
        if not message.address.get("email"):
            raise PermanentError("the candidate gave no e-mail address")
        try:
            mail = self.compose(message)
        except (ValueError, MessageError) as exc:  # a header the library refuses (CR/LF in an address): final
            raise PermanentError(f"the mail cannot be written: {type(exc).__name__}") from None
        try:
            with self._connect() as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:  # fixable setting: keep the mail for a retry
            raise TemporaryError(f"SMTP login refused ({exc.smtp_code}): check SMTP_URL") from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            error = PermanentError if codes and min(codes) >= 500 else TemporaryError
            raise error(f"SMTP refused the recipient ({', '.join(map(str, codes))})") from None
        except smtplib.SMTPResponseException as exc:
            error = PermanentError if exc.smtp_code >= 500 else TemporaryError
            text = _ADDRESS.sub("<address>", exc.smtp_error.decode(errors="replace"))[:200]  # no addresses in logs
            raise error(f"SMTP error {exc.smtp_code}: {text}") from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, disconnected, timed out
            raise TemporaryError(f"SMTP server unreachable: {type(exc).__name__}") from None
        return mail["Message-ID"]

    def _connect(self) -> smtplib.SMTP:
        host, context = self.url.hostname or "localhost", ssl.create_default_context()
        if self.url.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(host, self.url.port or 465, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, self.url.port or 25, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.url.scheme != "smtps" and smtp.has_extn("starttls"):  # never log in in the clear if avoidable
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.url.username:
                smtp.login(unquote(self.url.username), unquote(self.url.password or ""))
        except BaseException:
            smtp.close()  # a refused login must not leave the connection open
            raise
        return smtp

    def compose(self, message: Outgoing) -> EmailMessage:
        """Build the MIME message: text and HTML alternatives, plus the invitation for a booking."""
        payload, loc = message.payload, message.locale if message.locale in SUBJECTS else "ja"
        facts, kind = payload.get("facts") or {}, payload.get("kind", "")
        company = facts.get("company", "")
        base, token = self.config.public_base_url, message.address.get("token", "")
        unsubscribe = unsubscribe_url(self.config.secret_key, base, token)
        page = page_url(self.config.secret_key, base, token)
        lines = FOOTER[loc][1:] if kind in PAGE_CLOSED else FOOTER[loc]  # after the interview the page is 410
        if payload.get("staff"):  # a person wrote: the page's message form is where an answer reaches them
            lines, page = (ANSWER_HERE[loc], *FOOTER[loc][1:]), page + "#write"
        footer = [line.format(page=page, unsubscribe=unsubscribe) for line in lines]
        # E-mail replies are not read: no sentence of the bot's asks for one; each button becomes a link to the page.
        words = payload.get("text", "") if payload.get("staff") else without_reply_requests(payload.get("text", ""))
        actions = self.actions(payload.get("buttons") or [], token)
        text = words + ("\n\n" + ACTIONS[loc] + "".join(f"\n・{label}\n  {url}" for label, url in actions)
                        if actions else "")
        mail = EmailMessage()
        mail["Subject"] = SUBJECTS[loc].get(kind, SUBJECTS[loc][""]).format(company=company)
        mail["From"] = formataddr((self.sender[0] or company, self.sender[1]))
        # An Address, not a formatted string: a name with <, > or " would be re-read as part of the address.
        mail["To"] = Address(display_name=_inert(message.address.get("name") or ""),
                             addr_spec=message.address["email"])
        mail["Date"] = formatdate(localtime=False)
        # The same id on every attempt, so a resend after a crash is recognisable as the same mail.
        mail["Message-ID"] = f"<{message.idempotency_key}@{self.sender[1].partition('@')[2] or 'sokuresu'}>"
        mail["List-Unsubscribe"] = f"<{unsubscribe}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(text + "\n\n--\n" + "\n".join(footer) + "\n", charset="utf-8")
        mail.add_alternative(_html(words, footer, actions, ACTIONS[loc]), subtype="html", charset="utf-8")
        if kind == Kind.BOOKED and facts.get("slot_start") and facts.get("booking_token"):
            mail.add_attachment(self.invitation(facts, message, loc), maintype="text", subtype="calendar",
                                filename="interview.ics", params={"method": "REQUEST", "charset": "UTF-8"})
        return mail

    def actions(self, buttons: list[dict], token: str) -> list[tuple[str, str]]:
        """(label, page link) for each button: a time opens the page with that time chosen, never books by itself."""
        found = []
        for button in buttons:
            data = str(button.get("data", ""))
            if data.startswith("slot:"):
                query = {"slot": data.removeprefix("slot:")}
            elif data in _PAGE_DO:
                query = _PAGE_DO[data]
            else:
                continue  # a day of the date menu and the like: the page shows those itself
            found.append((button.get("label", ""), page_url(self.config.secret_key, self.config.public_base_url,
                                                           token, **query)))
        return found

    def invitation(self, facts: dict, message: Outgoing, loc: str) -> bytes:
        """An iTIP REQUEST for the interview: organiser is our sender, the candidate the attendee."""
        company = facts.get("company", "")
        summary = f"Interview at {company}" if loc == "en" else f"{company} 面接"
        raw = single_event(f"booking-{facts['booking_token']}@sokuresu", datetime.fromisoformat(facts["slot_start"]),
                           datetime.fromisoformat(facts["slot_end"]), summary, facts.get("place", ""),
                           facts.get("place", ""), message.meta["written_at"],
                           url=facts.get("ics_url"), method="REQUEST")
        cal = Calendar.from_ical(raw)
        for event in cal.walk("VEVENT"):
            organizer = vCalAddress(f"mailto:{self.sender[1]}")
            organizer.params["cn"] = company
            attendee = vCalAddress(f"mailto:{message.address['email']}")
            attendee.params.update(role="REQ-PARTICIPANT", partstat="ACCEPTED", rsvp="FALSE")
            event.add("organizer", organizer)
            event.add("attendee", attendee)
        return cal.to_ical()


def _inert(name: str) -> str:
    """A display name with no control or format characters (line breaks, NUL, escapes, bidi overrides): the
    candidate typed it, and it must never start a header of its own or reorder what the reader sees."""
    return " ".join("".join(" " if unicodedata.category(c) in ("Cc", "Cf") else c for c in name).split())


def _html(text: str, footer: list[str], actions: list[tuple[str, str]] = (), lead: str = "") -> str:
    """The same words as HTML: links clickable, line breaks kept, each action a big link; nothing else to go wrong."""
    def block(value: str) -> str:
        parts, at = [], 0
        for m in _URL.finditer(value):  # dates, times and phone numbers never break, outside the links
            found = link_end(m.group(0))
            url = html.escape(found)
            parts += [nowrap_html(html.escape(value[at:m.start()]), inline_style=True), f'<a href="{url}">{url}</a>']
            at = m.start() + len(found)
        parts.append(nowrap_html(html.escape(value[at:]), inline_style=True))
        return "".join(parts).replace("\n", "<br>\n")

    buttons = f"<p>{html.escape(lead)}</p>" if actions else ""
    buttons += "".join(
        f'<p style="margin:.5em 0"><a href="{html.escape(url)}" style="display:inline-block;padding:.7em 1.2em;'
        f'border:2px solid #0a7a3c;border-radius:10px;color:#075c2d;font-weight:bold;text-decoration:none;'
        f'white-space:nowrap">{html.escape(label)}</a></p>' for label, url in actions)
    return (f'<!doctype html><html><head><meta charset="utf-8"></head>'
            f'<body style="font-family:sans-serif;line-height:1.6"><p>{block(text)}</p>{buttons}'
            f'<hr><p style="color:#666;font-size:90%">{block(chr(10).join(footer))}</p></body></html>')
