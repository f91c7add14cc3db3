"""A channel no generic module has heard of, attached by a test as the registry attaches its own: the API and the
form offer it, the worker writes to its address, the recruiter page names it, and it is tried when another of
the person's addresses opted out or a greeting there did not arrive."""
import re

import pytest
from sqlmodel import Session

from bot.channels import registry
from bot.channels.plugin import ChannelPlugin
from bot.core.channelinfo import ChannelInfo
from bot.core.vocab import OptOutReason
from bot.db.models import Applicant, Outbox
from bot.service import optouts
from bot.service.delivery import run_once
from bot.service.delivery_reports import fall_back
from bot.web.contacts import contact_notes
from tests.conftest import AUTH, RecordingChannel, application, make_services, stored_outbox

LOFT = "+819011112222"  # the pigeons' loft refuses this number


def _pigeon_problem(phone: str, settings) -> str | None:
    return "is the loft's own number" if phone == LOFT else None


def _prepare(session, svc, applicant, row):
    row.payload = {**row.payload, "ring": "left leg"}  # the channel's own wording, as SMS adds its segments


# Writes to the applicant's phone, like the WhatsApp of docs/adding-a-channel.md; tried after SMS.
PIGEON = ChannelPlugin(
    ChannelInfo("pigeon", label={"ja": "伝書鳩", "en": "Carrier pigeon"}, address_field="phone",
                check_address=_pigeon_problem, offered={"ja": "伝書鳩で", "en": "By pigeon"}, fallback_rank=3,
                payload_keys=("ring",), stopped_labels={"stop_word": "鳩停止中 ({date})"}),
    configured=lambda config: True, prepare=_prepare)


@pytest.fixture
def pigeons():
    return RecordingChannel()


@pytest.fixture
def svc(db_url, clock, pigeons):
    from bot.channels.log import LogChannel
    from bot.channels.sandbox.adapter import SandboxChannel

    services = make_services(db_url, clock, channels={"sandbox": SandboxChannel(), "recruiter": LogChannel("recruiter"),
                                                      "email": RecordingChannel(), "pigeon": pigeons})
    registry.attach(services, (PIGEON,))
    yield services
    services.engine.dispose()


def _apply(client, **fields) -> int:
    res = client.post("/api/applications", json=application(**fields), headers=AUTH)
    assert res.status_code == 201, res.get_json()
    return res.get_json()["id"]


def test_the_api_takes_the_new_channel_and_the_worker_writes_to_its_address(client, svc, pigeons):
    applicant_id = _apply(client, channel="pigeon", phone="090-1234-5678")
    (greeting,) = stored_outbox(svc, applicant_id, kind="greeting")
    assert greeting.channel == "pigeon" and greeting.payload["ring"] == "left leg"
    while run_once(svc, "test-worker"):
        pass
    (sent,) = pigeons.sent
    assert sent.channel == "pigeon" and sent.address["phone"] == "+819012345678"


def test_the_new_channel_needs_its_address_and_checks_it(client, svc):
    res = client.post("/api/applications", json=application(channel="pigeon", phone=None), headers=AUTH)
    assert res.status_code == 422
    assert res.get_json()["errors"]["phone"] == "is required when the channel is pigeon"
    res = client.post("/api/applications", json=application(channel="pigeon", phone=LOFT), headers=AUTH)
    assert res.get_json()["errors"]["phone"] == "is the loft's own number"
    res = client.post("/api/applications", json=application(channel="owl"), headers=AUTH)
    assert res.get_json()["errors"]["channel"] == "must be one of line, sms, email, pigeon"


def test_the_form_offers_the_new_channel_in_the_candidates_language(client, svc):
    ja = client.get("/apply").get_data(as_text=True)
    en = client.get("/apply?lang=en").get_data(as_text=True)
    assert re.search(r'value="pigeon"[^>]*> 伝書鳩で</label>', ja) and "By pigeon</label>" in en
    assert ja.count('id="phone"') == 1  # SMS and the pigeon reach the same phone: one input


def test_an_opted_out_address_falls_back_to_the_new_channel_by_its_rank(client, svc):
    applicant_id = _apply(client, channel="email")
    with Session(svc.engine) as session:
        applicant = session.get(Applicant, applicant_id)
        assert optouts.channel_for(session, svc, applicant) == "email"
        optouts.opt_out(session, "email", "hanako@example.com", OptOutReason.UNSUBSCRIBED, svc.clock())
        # SMS (rank 2) has no transport and does not fall back to the chat: the pigeon (rank 3) is next.
        assert optouts.channel_for(session, svc, applicant) == "pigeon"
        note = contact_notes(session, svc, [applicant])[applicant_id]
        assert note.via_label == "伝書鳩"
        optouts.opt_out(session, "pigeon", "+819012345678", OptOutReason.STOP_WORD, svc.clock())
        assert optouts.channel_for(session, svc, applicant) is None
        note = contact_notes(session, svc, [applicant])[applicant_id]
        assert note.via_label == "送信先なし" and "鳩停止中 (2026-11-30)" in note.stopped


def _undelivered_greeting(svc, applicant_id) -> Outbox | None:
    """The applicant's greeting did not arrive: the copy sent on another channel."""
    (greeting,) = stored_outbox(svc, applicant_id, kind="greeting")
    with Session(svc.engine) as session:
        fall_back(session, svc, session.get(Outbox, greeting.id))
        session.commit()
    copies = stored_outbox(svc, applicant_id, fallback_for=greeting.id)
    return copies[0] if copies else None


def test_an_undelivered_greeting_is_sent_again_on_the_new_channel(client, svc):
    copy = _undelivered_greeting(svc, _apply(client, channel="email"))
    assert copy.channel == "pigeon" and copy.payload["kind"] == "greeting"


def test_a_greeting_the_new_channel_did_not_deliver_goes_by_e_mail_without_its_wording(client, svc):
    copy = _undelivered_greeting(svc, _apply(client, channel="pigeon"))
    assert copy.channel == "email" and "ring" not in copy.payload
