"""Mail to a person of the company (a sign-in link): plain text over the same SMTP server as candidates' mail,
without the candidate's page, unsubscribe link or invitation."""
from __future__ import annotations

import smtplib
import uuid
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from bot.channels.email.adapter import MailChannel
from bot.core.transport import PermanentError, TemporaryError


class StaffMail(MailChannel):
    """Send one plain-text mail to a colleague; TemporaryError or PermanentError when it cannot go."""

    def send_text(self, to: str, subject: str, text: str, sender_name: str = "") -> None:
        mail = EmailMessage()
        mail["Subject"] = subject
        mail["From"] = formataddr((self.sender[0] or sender_name, self.sender[1]))
        try:
            mail["To"] = Address(addr_spec=to)
        except (ValueError, IndexError):  # CR/LF or no @: the header library refuses it
            raise PermanentError("not an e-mail address") from None
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = f"<{uuid.uuid4().hex}@{self.sender[1].partition('@')[2] or 'sokuresu'}>"
        mail.set_content(text, charset="utf-8")
        try:
            with self._connect() as smtp:
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            raise (PermanentError if exc.smtp_code >= 500 else TemporaryError)(f"SMTP error {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused:
            raise PermanentError("SMTP refused the recipient") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryError(f"SMTP server unreachable: {type(exc).__name__}") from None
