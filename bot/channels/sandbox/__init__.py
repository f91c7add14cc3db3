"""The sandbox: the web chat at /chat/<token>, where every channel without a transport is delivered (the demo)."""
from __future__ import annotations

from bot.channels.plugin import ChannelPlugin
from bot.channels.sandbox import web
from bot.channels.sandbox.adapter import SandboxChannel
from bot.core.channelinfo import ChannelInfo

# No address of the candidate's: the chat page is reached by the applicant's token.
PLUGIN = ChannelPlugin(ChannelInfo("sandbox", label={"ja": "Webチャット", "en": "Web chat"}, stand_in=True),
                       configured=lambda config: True, adapter=lambda config: SandboxChannel(), blueprints=(web.bp,))
