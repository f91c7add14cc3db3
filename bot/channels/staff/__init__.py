"""Alerts for the company's people by e-mail and in a chat tool (bot/service/notify.py writes the rows)."""
from __future__ import annotations

from bot.channels.email.staff import StaffMail
from bot.channels.plugin import ChannelPlugin
from bot.channels.staff.adapter import StaffAlerts
from bot.channels.staff.webhook import Webhook
from bot.config import Config
from bot.core.channelinfo import ChannelInfo
from bot.core.vocab import STAFF_CHANNEL


def _adapter(config: Config) -> StaffAlerts:
    return StaffAlerts(StaffMail(config) if config.smtp_url else None,
                       Webhook(config.alert_webhook_url) if config.alert_webhook_url else None)


# Not candidate-facing: no address column, never offered, never a fallback.
PLUGIN = ChannelPlugin(ChannelInfo(STAFF_CHANNEL, label={"ja": "担当者への通知", "en": "Alerts to staff"}),
                       configured=lambda config: bool(config.smtp_url or config.alert_webhook_url),
                       adapter=_adapter)
