"""What the service layer runs on: adapters, settings and the clock, plus this process's state.

Built once per process by bot.bootstrap (the only module that knows the concrete adapters); the service,
the worker and the channels receive it. Channel-specific work reaches the service only through the hooks
registered here by bot.channels.registry, so no service module names a channel.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Config
from bot.core.channelinfo import ChannelInfo
from bot.core.messages import Renderer
from bot.core.settings import Settings
from bot.core.transport import Channel
from bot.service.keys import Keys
from bot.service.lanes import Pools
from calendars.base import Calendar, utcnow
from calendars.local import LocalCalendar


def local_calendar(session: Session, clock: Callable[[], datetime] = utcnow) -> Calendar:
    return LocalCalendar(session, clock)


@dataclass
class ProcessState:
    """What this process keeps while it runs, beside the wiring: nothing here is configuration."""

    wake: threading.Event = field(default_factory=threading.Event)  # set: the worker looks at the outbox now
    # Runs the inbox items this process received right after the webhook answers (bot.service.inbox_runner.InboxRunner,
    # in a web process); None: the worker runs them.
    inbox_runner: object | None = None
    # Sends what this process's requests wrote, right after their answer (bot.service.send_after.SendAfter, in a
    # web process); None: the worker sends it.
    send_after: object | None = None
    # Free times the turns of this process worked out lately (bot.service.turn.Turn.available).
    free_times: dict = field(default_factory=dict)
    # The threads this process sends on, a few per channel (bot.service.lanes), started on first use.
    pools: Pools = field(default_factory=Pools)
    # Where the form's rate limits and used proofs of work are counted (bot.service.ratestore), made on first use.
    rates: object | None = None


@dataclass
class Services:
    """Everything the service layer and the worker need, built once per process."""

    config: Config
    settings: Settings
    engine: Engine
    renderer: Renderer
    channels: dict[str, Channel]
    keys: Keys  # one key per purpose, derived from config.secret_key (bot.service.keys)
    clock: Callable[[], datetime] = utcnow
    calendar_for: Callable[[Session], Calendar] = local_calendar  # bootstrap() hands it this clock
    process: ProcessState = field(default_factory=lambda: ProcessState())

    # Registered by the channels (bot.channels.registry): channel -> prepare(session, svc, applicant, row), run when
    # a row is enqueued for it (wording fixed in the enqueuing transaction), and channel -> the
    # bot.service.inbox.Handler that carries out the inbox items it received.
    preparers: dict[str, Callable] = field(default_factory=dict)
    inbox_handlers: dict = field(default_factory=dict)
    # channel -> figures(session, svc) for the recruiter page (e.g. LINE's pushes this month).
    figures: dict[str, Callable] = field(default_factory=dict)
    # channel -> what it declares as data (its address column, labels, fallback order), in the registry's order.
    channel_info: dict[str, ChannelInfo] = field(default_factory=dict)

    def enabled(self, channel: str) -> bool:
        """Whether a real transport exists for this candidate channel."""
        info = self.channel_info.get(channel)
        return channel in self.channels and not (info is not None and info.stand_in)

    @property
    def stand_in(self) -> str:
        """The web chat where a candidate channel without a transport is delivered."""
        return next(info.name for info in self.channel_info.values() if info.stand_in)

    def addressed(self) -> list[ChannelInfo]:
        """The channels that reach a candidate at an address of theirs, in the registry's order."""
        return [info for info in self.channel_info.values() if info.address_field]
