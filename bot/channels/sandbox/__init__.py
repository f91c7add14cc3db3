"""The sandbox: the web chat at /chat/<token>, where every channel without a transport is delivered (the demo)."""
from __future__ import annotations

from bot.channels.plugin import ChannelPlugin
from bot.channels.sandbox import web
from bot.channels.sandbox.adapter import SandboxChannel

PLUGIN = ChannelPlugin(name="sandbox", configured=lambda config: True, adapter=lambda config: SandboxChannel(),
                       blueprints=(web.bp,))
