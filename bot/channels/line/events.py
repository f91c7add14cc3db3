"""A LINE webhook event as Sokuresu keeps it (no SDK types: the queued row and the turn read this)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class LineEvent:
    """One webhook event, reduced to what Sokuresu acts on."""

    kind: str                      # message | postback | follow | unfollow | join | (any other LINE type)
    event_id: str | None           # webhookEventId: the key that makes a redelivery harmless
    source: str                    # user | group | room
    user_id: str | None
    reply_token: str | None = None
    at: datetime | None = None     # when LINE saw the event (the reply token's clock starts here)
    redelivery: bool = False
    message_type: str | None = None
    text: str | None = None
    data: str | None = None        # postback data; a picked date is folded in as 'date:YYYY-MM-DD'
