"""/r/<token> only ever leads where the company or a booking points (issue 13, item 3): a URL the candidate
typed (in their name, say) is never shortened into a redirect in the company's name."""
from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from bot.db.models import ShortLink
from tests.channels.sms.drivers import Phone

EVIL = "http://evil.example/prize"


@pytest.mark.parametrize("number", ["+819012345678", "+14155550123"])  # one-way (page links), two-way (numbers)
def test_a_url_in_the_name_is_never_shortened(sms_client, sms_svc, fake_twilio, number):
    # Intake refuses such a name now (tests/security/test_names.py); a row stored before that rule still
    # must not turn into a redirect.
    from bot.core.events import Applied
    from bot.db.models import Applicant
    from bot.service.turn import handle
    from tests.conftest import START

    phone = Phone(sms_client, sms_svc, fake_twilio, number=number)
    with Session(sms_svc.engine) as s:
        applicant = Applicant(name=f"当選 {EVIL}", phone=number, channel="sms", job_id="bakery-staff",
                              created_at=START, updated_at=START)
        s.add(applicant)
        s.commit()
        applicant_id = applicant.id
    handle(sms_svc, applicant_id, Applied())
    texts = [sms.body for sms in phone.inbox()]
    assert texts, "the greeting went out"
    with Session(sms_svc.engine) as s:
        targets = {link.url for link in s.exec(select(ShortLink)).all()}
    assert targets and not any("evil.example" in url for url in targets)
    for token in {t for body in texts for t in re.findall(r"/r/([\w-]+)", body)}:
        res = sms_client.get(f"/r/{token}")
        assert res.status_code == 302 and "evil.example" not in res.headers["Location"]


@pytest.mark.parametrize("sms_mode", ["one_way", "two_way"])
@pytest.mark.parametrize("kind", ["thanks_after", "welcome_back_handoff", "greeting", "nudge"])
def test_no_message_shortens_a_url_the_candidate_typed(sms_svc, kind):
    from bot.channels.sms.payload import prepare_sms
    from bot.core.messages import Recipient
    from bot.db.models import Applicant, Outbox
    from tests.conftest import START

    with Session(sms_svc.engine) as s:
        applicant = Applicant(name=f"当選 {EVIL}", phone="+819012345678", channel="sms", job_id="bakery-staff",
                              created_at=START, updated_at=START)
        s.add(applicant)
        s.flush()
        payload = sms_svc.renderer.render(kind, Recipient(applicant.name, "ja", "bakery-staff"))
        assert EVIL in payload["text"]  # the name is in the long text the SMS is made from
        row = Outbox(applicant_id=applicant.id, channel="sms", kind=kind, payload=payload, due_at=START,
                     created_at=START)
        s.add(row)
        prepare_sms(s, sms_svc, applicant, row)
        s.flush()
        targets = {link.url for link in s.exec(select(ShortLink)).all()}
    assert not any("evil.example" in url for url in targets), targets
