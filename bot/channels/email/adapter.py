"""E-mail over SMTP: multipart text + HTML in UTF-8 (bot.channels.email.view / render), List-Unsubscribe, an .ics
invitation with a booking."""
from __future__ import annotations

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

from bot.channels.email.render import html_part, rich, text_part
from bot.channels.email.texts import MAIL
from bot.channels.email.view import build
from bot.config import Config
from bot.core.transport import Outgoing, PermanentError, TemporaryError
from bot.core.vocab import Kind
from bot.service.shortlinks import unsubscribe_url
from calendars.ics import single_event

TIMEOUT = 10.0  # seconds per step of the SMTP conversation: the most one send holds its thread, for each step
_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>]+")


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
        """Build the MIME message: text and HTML alternatives saying the same, plus the invitation for a booking."""
        payload, loc = message.payload, message.locale if message.locale in MAIL else "ja"
        facts, kind = payload.get("facts") or {}, payload.get("kind", "")
        base, token = self.config.public_base_url, message.address.get("token", "")
        unsubscribe = unsubscribe_url(self.config.secret_key, base, token)
        view = build(payload, loc, base, self.config.secret_key, token, unsubscribe)
        mail = EmailMessage()
        mail["Subject"] = view.subject
        mail["From"] = formataddr((self.sender[0] or view.company, self.sender[1]))
        # An Address, not a formatted string: a name with <, > or " would be re-read as part of the address.
        mail["To"] = Address(display_name=_inert(message.address.get("name") or ""),
                             addr_spec=message.address["email"])
        mail["Date"] = formatdate(localtime=False)
        # The same id on every attempt, so a resend after a crash is recognisable as the same mail.
        mail["Message-ID"] = f"<{message.idempotency_key}@{self.sender[1].partition('@')[2] or 'sokuresu'}>"
        mail["List-Unsubscribe"] = f"<{unsubscribe}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        mail.set_content(text_part(view), charset="utf-8")
        mail.add_alternative(html_part(view), subtype="html", charset="utf-8")
        if kind == Kind.BOOKED and facts.get("slot_start") and facts.get("booking_token"):
            mail.add_attachment(self.invitation(facts, message, loc), maintype="text", subtype="calendar",
                                filename="interview.ics", params={"method": "REQUEST", "charset": "UTF-8"})
        return mail

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


def _html(text: str, *_) -> str:
    """Text as the mail's HTML writes it: escaped, links clickable, dates, times and phone numbers unbroken."""
    return str(rich(text)).replace("\n", "<br>\n")
