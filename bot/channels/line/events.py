"""A LINE webhook event as Sokuresu keeps it (no SDK types: the queued row and the turn read this)."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
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


_SURROGATE = re.compile("[\ud800-\udfff]")
EVENT_ID_LENGTH = 128  # inbox_item.event_id
USER_ID_LENGTH = 64  # applicant.line_user_id (LINE's are 33 characters: U and 32 hex digits)


def _text(value: str | None) -> str | None:
    return _SURROGATE.sub("\ufffd", value.replace("\x00", "")) if value is not None else None


def storable(event: LineEvent) -> LineEvent:
    """The event as any database keeps it. Its signature holds, but what it says was still a 500 for the whole
    webhook (found by tests/security/test_fuzz.py): a NUL or half a surrogate pair (an escape JSON allows) in any
    string, an event id longer than its column. Such text keeps its place (U+FFFD), a long event id is kept as its
    hash (a redelivery is still recognised), and a user id no LINE user has is no user."""
    fields = {name: _text(getattr(event, name)) for name in ("kind", "event_id", "source", "user_id", "reply_token",
                                                             "message_type", "text", "data")}
    if fields["event_id"] is not None and len(fields["event_id"]) > EVENT_ID_LENGTH:
        fields["event_id"] = "sha256:" + hashlib.sha256(fields["event_id"].encode()).hexdigest()
    if fields["user_id"] is not None and len(fields["user_id"]) > USER_ID_LENGTH:
        fields["user_id"] = None
    return replace(event, **fields)
