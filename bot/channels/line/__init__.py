"""LINE: the adapter (the only module importing linebot), the webhook, the durable inbox of its events, leads who
add the account before applying, cards, the rich menu and `sokuresu line`."""
from __future__ import annotations

from bot.channels.line import cards, cli, inbound, webhook
from bot.channels.plugin import ChannelPlugin
from bot.config import Config


def _adapter(config: Config):
    from bot.channels.line.adapter import LineChannel  # linebot loads only where LINE is configured

    return LineChannel(config)


def _figures(session, svc) -> dict:
    return {"line_pushes": cards.push_count(session, svc)}  # LINE plans cap pushes per month; replies are free


def _start_web(svc) -> None:
    svc.inbox = inbound.InboxRunner(svc)  # the web process runs the turns of the events it took, after the 200


PLUGIN = ChannelPlugin(name="line", configured=lambda config: config.line_enabled, adapter=_adapter,
                       blueprints=(webhook.bp,), commands=(cli.line,), prepare=cards.prepare_line,
                       runners={inbound.INBOX: inbound.run_rows}, figures=_figures, start_web=_start_web)
