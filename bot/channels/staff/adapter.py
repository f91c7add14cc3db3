"""The staff channel: an alert's copy goes by mail to one person, or to the chat webhook."""
from __future__ import annotations

from bot.channels.email.staff import StaffMail
from bot.channels.staff.webhook import Webhook
from bot.core.transport import Outgoing, PermanentError


class StaffAlerts:
    """Send a staff row by its `via`: `mail` to its `to`, or `webhook`; either may be unset (None)."""

    def __init__(self, mail: StaffMail | None, webhook: Webhook | None, sender_name: str = ""):
        self.mail, self.webhook, self.sender_name = mail, webhook, sender_name

    def send(self, message: Outgoing) -> str | None:
        data = message.payload
        if data.get("via") == "mail" and self.mail is not None:
            self.mail.send_text(data["to"], data["subject"], data["text"], self.sender_name)
            return None
        if data.get("via") == "webhook" and self.webhook is not None:
            self.webhook.post(data["text"])
            return None
        raise PermanentError(f"no {data.get('via')!r} configured for staff alerts")
