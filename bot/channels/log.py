"""E-mail without SMTP_URL, and recruiter alerts: written to the log (no personal data) and the outbox."""
from __future__ import annotations

import logging

from bot.channels.plugin import ChannelPlugin
from bot.core.channelinfo import ChannelInfo
from bot.core.transport import Outgoing
from bot.core.vocab import RECRUITER_CHANNEL

log = logging.getLogger("sokuresu.mail")


class LogChannel:
    """Record that a message would have gone out; the text stays in the database, not the log."""

    def __init__(self, name: str):
        self.name = name

    def send(self, message: Outgoing) -> str | None:
        log.info("%s: %s message %s kept in the outbox (no transport configured)",
                 self.name, message.payload.get("kind", "?"), message.idempotency_key[:8])
        return None


# Recruiter alerts stay in the outbox for the recruiter page; the log notes only that one was written.
# Not candidate-facing: no address, never offered, never a fallback.
PLUGIN = ChannelPlugin(ChannelInfo(RECRUITER_CHANNEL), configured=lambda config: True,
                       adapter=lambda config: LogChannel(RECRUITER_CHANNEL))
