"""What a channel tells the rest of Sokuresu about itself: one `ChannelPlugin` per channel package.

The registry (bot.channels.registry) lists the plugins; bootstrap builds the adapters that are configured
and hands the hooks and the channel's `ChannelInfo` to the service layer, the app registers the blueprints, the CLI adds
the commands. A generic module never names a channel: it asks Services for the hook or the data the channel
registered.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from bot.config import Config
from bot.core.channelinfo import ChannelInfo
from bot.core.transport import Channel

if TYPE_CHECKING:
    from bot.service.inbox import Handler


@dataclass(frozen=True)
class ChannelPlugin:
    info: ChannelInfo  # its name, address column, labels and fallback order, as data for the generic modules
    configured: Callable[[Config], bool]  # whether the environment holds this channel's credentials
    adapter: Callable[[Config], Channel] | None = None  # builds the transport (its SDK loads only here)
    blueprints: tuple = ()  # Flask blueprints: the channel's webhooks and pages
    commands: tuple = ()  # click commands added to `sokuresu`
    # prepare(session, svc, applicant, row): fix the wording, cards and links of a row enqueued for this channel,
    # in the enqueuing transaction.
    prepare: Callable | None = None
    # How to carry out what the channel keeps in the durable inbox (bot.service.inbox.receive) after its webhook.
    inbox_handler: Handler | None = None
    figures: Callable | None = None  # figures(session, svc) -> {label: value} for the recruiter page
    start_web: Callable | None = None  # start_web(svc): what a web process runs beside its requests

    @property
    def name(self) -> str:
        return self.info.name
