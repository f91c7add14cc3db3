"""SMS through Twilio: the adapter (the only module importing twilio), the webhooks (replies, delivery reports),
the wording within a segment budget, and the one-way mode with links to the candidate's page."""
from __future__ import annotations

from bot.channels.plugin import ChannelPlugin
from bot.channels.sms import payload, webhook
from bot.channels.sms.adapter import SmsChannel

PLUGIN = ChannelPlugin(name="sms", configured=lambda config: config.sms_enabled, adapter=SmsChannel,
                       blueprints=(webhook.bp,), prepare=payload.prepare_sms)
