"""Every channel Sokuresu speaks, in one list. Adding a channel: its package under bot/channels/ with a
`PLUGIN`, and one line here (docs/adding-a-channel.md)."""
from __future__ import annotations

from bot.channels import email, line, log, sandbox, sms, staff
from bot.channels.plugin import ChannelPlugin
from bot.config import Config
from bot.core.transport import Channel
from bot.service.deps import Services
from bot.service.inbox_runner import InboxRunner
from bot.service.send_after import SendAfter

CHANNELS: tuple[ChannelPlugin, ...] = (line.PLUGIN, sms.PLUGIN, email.PLUGIN, sandbox.PLUGIN, log.PLUGIN,
                                       staff.PLUGIN)


def adapters(config: Config) -> dict[str, Channel]:
    """The transports of the channels whose credentials are set (the sandbox and the recruiter log always)."""
    return {p.name: p.adapter(config) for p in CHANNELS if p.adapter is not None and p.configured(config)}


def attach(svc: Services, plugins: tuple[ChannelPlugin, ...] = CHANNELS) -> None:
    """Hand the service layer each channel's data and hooks (a test may attach a channel of its own)."""
    for plugin in plugins:
        svc.channel_info[plugin.name] = plugin.info
        if plugin.prepare is not None:
            svc.preparers[plugin.name] = plugin.prepare
        if plugin.inbox_handler is not None:
            svc.inbox_handlers[plugin.name] = plugin.inbox_handler
        if plugin.figures is not None and plugin.configured(svc.config):
            svc.figures[plugin.name] = plugin.figures


def blueprints() -> list:
    return [bp for plugin in CHANNELS for bp in plugin.blueprints]


def commands() -> list:
    return [command for plugin in CHANNELS for command in plugin.commands]


def start_web(svc: Services) -> None:
    """What a web process runs beside its requests: the inbox runner when a configured channel keeps inbox
    items, and each configured channel's own."""
    if any(p.inbox_handler is not None and p.configured(svc.config) for p in CHANNELS):
        svc.process.inbox_runner = InboxRunner(svc)  # the web process runs the items it received right after its answer
    svc.process.send_after = SendAfter(svc)  # a new application's greeting goes out from here, not via a worker
    for plugin in CHANNELS:
        if plugin.start_web is not None and plugin.configured(svc.config):
            plugin.start_web(svc)
