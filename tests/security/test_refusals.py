"""The refusal record: counted per day and reason (a flood is one row), masked, and shown on the recruiter page."""
from __future__ import annotations

from sqlmodel import select

from bot.core.vocab import RefusalReason
from bot.db.engine import session_scope
from bot.db.models import Refusal
from bot.service import refusals
from tests.recruiters import sign_in


def test_mask_keeps_a_pattern_not_a_contact():
    assert refusals.mask("+4490912345678") == "+44909••••••78"
    assert refusals.mask("hanako@example.com") == "h•••@example.com"
    assert refusals.mask(None) is None
    assert "12345" not in refusals.mask("+4490912345678")


def test_network_not_address():
    assert refusals.network("203.0.113.77") == "203.0.113.0/24"
    assert refusals.network("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert refusals.network("not an address") is None


def test_a_flood_is_one_counted_row_per_day(svc):
    for _ in range(25):
        refusals.record(svc, RefusalReason.NUMBER_TYPE, source="form", channel="sms", destination="+19005550123",
                        client="198.51.100.9")
    refusals.record(svc, RefusalReason.COUNTRY, source="api", channel="sms", destination="+4490912345678")
    with session_scope(svc.engine) as s:
        rows = s.exec(select(Refusal).order_by(Refusal.id)).all()
    assert [(r.reason, r.count) for r in rows] == [("number_type", 25), ("country", 1)]
    assert rows[0].destination == "+19005••••23" and rows[0].client == "198.51.100.0/24"
    svc.clock.advance(days=1)
    refusals.record(svc, RefusalReason.NUMBER_TYPE, source="form", channel="sms", destination="+19005550123",
                    client="198.51.100.9")
    with session_scope(svc.engine) as s:
        assert len(s.exec(select(Refusal)).all()) == 3


def test_recruiter_page_shows_refusals_in_words(svc, client):
    sign_in(client)
    refusals.record(svc, RefusalReason.NUMBER_TYPE, source="form", channel="sms", destination="+19005550123",
                    client="198.51.100.9")
    page = client.get("/recruiter/").get_data(as_text=True)
    assert "SMSを受け取れない番号" in page and "+19005••••23" in page and "198.51.100.0/24" in page
    assert "+19005550123" not in page
