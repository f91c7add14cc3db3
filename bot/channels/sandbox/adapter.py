"""The sandbox channel: messages are only shown in the web chat page (demo, or a channel that is off)."""
from __future__ import annotations

from bot.core.transport import Outgoing


class SandboxChannel:
    """Delivery is the message-log row the worker writes; nothing leaves the machine."""

    def send(self, message: Outgoing) -> str | None:
        return None
