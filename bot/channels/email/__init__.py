"""E-mail over SMTP (standard library only): the HTML and plain-text mail with its calendar invitation."""
from __future__ import annotations

from bot.channels.email.adapter import MailChannel
from bot.channels.plugin import ChannelPlugin

PLUGIN = ChannelPlugin(name="email", configured=lambda config: bool(config.smtp_url), adapter=MailChannel)
