"""LINE: the adapter (the only module importing linebot), the webhook, the durable inbox of its events, leads who
add the account before applying, cards, the rich menu and `sokuresu line`."""
from __future__ import annotations

import re

from bot.channels.line import cards, cli, inbound, webhook
from bot.channels.plugin import ChannelPlugin
from bot.config import Config
from bot.core.channelinfo import ChannelInfo


def _adapter(config: Config):
    from bot.channels.line.adapter import LineChannel  # linebot loads only where LINE is configured

    return LineChannel(config)


def _figures(session, svc) -> dict:
    return {"line_pushes": cards.push_count(session, svc)}  # LINE plans cap pushes per month; replies are free


def check_user_id(user_id: str) -> str:
    if not re.fullmatch(r"U[0-9a-f]{32}", user_id):
        raise ValueError("must be a LINE user id (U followed by 32 hex digits)")
    return user_id


# A candidate who applies on the form links LINE by sending their code (bot.channels.line.leads); a friend who has
# not applied is written to at the user id in the payload.
INFO = ChannelInfo(
    "line", label={"ja": "LINE", "en": "LINE"}, address_field="line_user_id", address_length=64,
    normalise_address=check_user_id, links_by_code=True, offered={"ja": "LINE", "en": "LINE"}, fallback_rank=0,
    payload_to="line_to",
    stopped_labels={"blocked": "LINEブロック中 ({date})", "stop_word": "LINE配信停止中 (配信停止 {date})"})

PLUGIN = ChannelPlugin(INFO, configured=lambda config: config.line_enabled, adapter=_adapter,
                       blueprints=(webhook.bp,), commands=(cli.line,), prepare=cards.prepare_line,
                       inbox_handler=inbound.HANDLER, figures=_figures)
