"""Where the form and the API may send messages (issue 13, item 1): phones of the allowed countries only, SMS to
mobiles only, nothing to a premium-rate number; each refusal counted. One greeting per address per day however
many applications, and the documented nudges once for a person who never answers."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from bot.core.settings import load_settings
from bot.core.vocab import AlertReason, Kind, OutboxStatus, RefusalReason
from bot.db.engine import session_scope
from bot.db.models import Applicant, Outbox, Refusal
from bot.service.delivery import run_once
from tests.conftest import AUTH, Chat, application, make_services, stored_applicant


def _services(db_url, clock, **protection):
    settings = load_settings()
    return make_services(db_url, clock, settings=replace(settings, protection=replace(settings.protection,
                                                                                      **protection)))


@pytest.fixture
def world(db_url, clock):
    """Services that accept Japanese, American and British numbers, so their number types are what is checked."""
    services = _services(db_url, clock, countries=("JP", "US", "GB"))
    yield services
    services.engine.dispose()


@pytest.fixture
def world_client(world):
    from bot import create_app

    return create_app({"TESTING": True}, services=world).test_client()


def _api(client, **fields):
    return client.post("/api/applications", json=application(**fields), headers=AUTH)


def _form(client, **fields):
    page = client.get("/apply").get_data(as_text=True)
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    data = {"csrf": csrf, "name": "山田 花子", "channel": "sms", "job": "bakery-staff", "email": "", "consent": "yes",
            **fields}
    return client.post("/apply", data=data)


def _refusals(svc) -> list[Refusal]:
    with session_scope(svc.engine) as s:
        return s.exec(select(Refusal).order_by(Refusal.id)).all()


def _rows(svc, kind: str) -> list[Outbox]:
    with session_scope(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id)).all()


def _applicants(svc) -> list[Applicant]:
    with session_scope(svc.engine) as s:
        return s.exec(select(Applicant).order_by(Applicant.id)).all()


# --- Number types -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone, why", [
    ("+1 900-555-1234", "premium-rate"),  # US premium rate
    ("+44 909 123 4567", "premium-rate"),  # UK premium rate
    ("+44 20 7946 0000", "landline"),  # London
    ("03-6820-1234", "landline"),  # Tokyo
    ("050-1234-5678", "IP phone"),  # Japanese IP phone: no SMS reaches it
    ("0120-123-456", "toll-free"),
])
def test_the_api_refuses_an_sms_to_a_number_that_is_not_a_mobile(world, world_client, phone, why):
    res = _api(world_client, phone=phone, channel="sms")
    assert res.status_code == 422
    assert why in res.get_json()["errors"]["phone"]
    assert _applicants(world) == [] and _rows(world, Kind.GREETING) == []
    [refusal] = _refusals(world)
    assert (refusal.reason, refusal.source, refusal.channel, refusal.count) == (RefusalReason.NUMBER_TYPE, "api",
                                                                               "sms", 1)
    assert refusal.destination.startswith("+") and refusal.destination.endswith(refusal.destination[-2:])


@pytest.mark.parametrize("phone, words", [
    ("+1 900-555-1234", "有料番号"),
    ("+44 909 123 4567", "有料番号"),
    ("+44 20 7946 0000", "固定電話にはSMSが届きません"),
    ("03-6820-1234", "固定電話にはSMSが届きません"),
    ("050-1234-5678", "SMSを受け取れない番号"),
])
def test_the_form_says_why_next_to_the_phone_and_counts_the_refusal(world, world_client, phone, words):
    res = _form(world_client, phone=phone)
    assert res.status_code == 422
    assert words in res.get_data(as_text=True)
    assert _applicants(world) == []
    [refusal] = _refusals(world)
    assert (refusal.reason, refusal.source, refusal.client) == (RefusalReason.NUMBER_TYPE, "form", "127.0.0.0/24")


def test_a_premium_rate_number_is_refused_even_only_to_be_called(world, world_client):
    res = _api(world_client, phone="+44 909 123 4567", channel="email")
    assert res.status_code == 422 and "premium-rate" in res.get_json()["errors"]["phone"]
    assert _refusals(world)[0].reason == RefusalReason.NUMBER_TYPE


def test_a_landline_or_ip_phone_may_be_given_to_be_called(world, world_client):
    for phone in ("03-6820-1234", "050-1234-5678"):
        assert _api(world_client, phone=phone, channel="email", email=f"{phone[:3]}@example.com").status_code == 201
    assert _refusals(world) == []


@pytest.mark.parametrize("phone", ["090-1234-5678", "080-2345-6789", "070-3456-7890", "+81 90 1234 5678"])
def test_a_japanese_mobile_is_accepted(svc, client, phone):
    res = _api(client, phone=phone, channel="sms")
    assert res.status_code == 201, res.get_json()
    assert _refusals(svc) == []


def test_without_mobile_only_an_ip_phone_may_get_an_sms_but_never_a_landline_or_premium(db_url, clock):
    from bot import create_app

    services = _services(db_url, clock, sms_mobile_only=False)
    client = create_app({"TESTING": True}, services=services).test_client()
    assert _api(client, phone="050-1234-5678", channel="sms").status_code == 201
    assert _api(client, phone="03-6820-1234", channel="sms").status_code == 422
    assert _api(client, phone="0990-123-456", channel="sms").status_code == 422
    services.engine.dispose()


# --- Countries --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("phone", ["+33 6 12 34 56 78", "+1 415-555-2671", "+44 7400 123456"])
def test_a_number_abroad_is_refused_when_only_the_companys_country_is_allowed(svc, client, phone):
    res = _api(client, phone=phone, channel="sms")
    assert res.status_code == 422
    assert "JP only" in res.get_json()["errors"]["phone"]
    [refusal] = _refusals(svc)
    assert (refusal.reason, refusal.source) == (RefusalReason.COUNTRY, "api")


def test_a_refusal_with_a_job_that_is_no_string_is_still_a_422(svc, client):
    res = _api(client, phone="+33 6 12 34 56 78", job=["bakery-staff"])
    assert res.status_code == 422 and {"phone", "job"} <= set(res.get_json()["errors"])
    assert _refusals(svc)[0].job_id is None


def test_the_country_rule_holds_for_a_phone_given_only_to_be_called(svc, client):
    res = _api(client, phone="+33 6 12 34 56 78", channel="email")
    assert res.status_code == 422 and "phone" in res.get_json()["errors"]
    assert _refusals(svc)[0].reason == RefusalReason.COUNTRY


def test_the_form_names_the_allowed_country(svc, client):
    res = _form(client, phone="+33 6 12 34 56 78")
    assert res.status_code == 422
    assert "日本の電話番号でご応募ください" in res.get_data(as_text=True)
    [refusal] = _refusals(svc)
    assert (refusal.reason, refusal.source, refusal.client) == (RefusalReason.COUNTRY, "form", "127.0.0.0/24")
    res = client.post("/apply?lang=en", data={"csrf": client.get("/apply?lang=en").get_data(as_text=True)
                                              .split('name="csrf" value="')[1].split('"')[0],
                                              "name": "Hanako", "channel": "sms", "job": "bakery-staff",
                                              "phone": "+33 6 12 34 56 78", "consent": "yes"})
    assert "Please give a phone number in Japan" in res.get_data(as_text=True)


def test_allowed_countries_let_a_us_mobile_through(db_url, clock):
    from bot import create_app

    services = _services(db_url, clock, countries=("JP", "US"))
    client = create_app({"TESTING": True}, services=services).test_client()
    assert _api(client, phone="+1 415-555-2671", channel="sms").status_code == 201  # fixed line or mobile: let through
    assert _api(client, phone="+44 7400 123456", channel="sms", email="uk@example.com").status_code == 422
    assert [r.reason for r in _refusals(services)] == [RefusalReason.COUNTRY]
    services.engine.dispose()


# --- One greeting per address per day --------------------------------------------------------------------------

def test_five_applications_from_one_phone_in_a_day_get_one_greeting(svc, client):
    jobs = ["bakery-staff", "store-manager", "bakery-staff", "store-manager", "bakery-staff"]
    ids = [_api(client, job=job, email=f"hanako{i}@example.com").get_json()["id"] for i, job in enumerate(jobs)]
    assert len(_applicants(svc)) == 5  # every application is kept: a real person applying twice is not lost
    greetings = _rows(svc, Kind.GREETING)
    assert [g.applicant_id for g in greetings] == [ids[0]]
    assert [stored_applicant(svc, i).state for i in ids] == ["greeted", "new", "new", "new", "new"]
    [refusal] = _refusals(svc)
    assert (refusal.reason, refusal.count, refusal.applicant_id) == (RefusalReason.GREETED_TODAY, 4, ids[-1])
    alerts = [a for a in _rows(svc, Kind.ALERT) if a.payload["reason"] == AlertReason.APPLIED_AGAIN]
    assert [(a.applicant_id, a.payload["detail"]) for a in alerts] == [(i, f"#{ids[0]}") for i in ids[1:]]
    nudges = _rows(svc, Kind.NUDGE)
    assert {n.applicant_id for n in nudges} == {ids[0]}


def test_the_same_email_counts_as_the_same_address(svc, client):
    _api(client, phone="090-1111-2222", email="Hanako@Example.com")
    res = _api(client, phone="080-3333-4444", email="hanako@example.com", job="store-manager")
    assert res.get_json()["state"] == "new"
    assert len(_rows(svc, Kind.GREETING)) == 1


def test_a_day_later_the_address_is_greeted_again(svc, client):
    _api(client)
    svc.clock.advance(hours=23)
    assert _api(client, job="store-manager").get_json()["state"] == "new"
    svc.clock.advance(hours=2)
    assert _api(client, job="store-manager").get_json()["state"] == "greeted"
    assert len(_rows(svc, Kind.GREETING)) == 2


def test_greetings_per_day_is_a_setting(db_url, clock):
    from bot import create_app

    services = _services(db_url, clock, greetings_per_day=2)
    client = create_app({"TESTING": True}, services=services).test_client()
    states = [_api(client, job=job).get_json()["state"] for job in ("bakery-staff", "store-manager", "bakery-staff")]
    assert states == ["greeted", "greeted", "new"]
    services.engine.dispose()


def test_an_sms_reply_continues_the_conversation_that_greeted_them(phone, sms_svc):
    first = phone.apply()
    assert phone.inbox()  # the greeting (and the company's content)
    second = phone.apply(job="store-manager", email="other@example.com")
    assert phone.inbox() == []  # no second greeting
    phone.text("1")  # the first time offered in the greeting
    assert stored_applicant(sms_svc, first).state == "booked"
    assert stored_applicant(sms_svc, second).state == "new"


def test_the_form_tells_a_person_applying_again_to_go_on_from_our_message_and_opens_no_chat(svc, client):
    first = _form(client, phone="090-1234-5678")
    assert "open-chat" in client.get(first.headers["Location"]).get_data(as_text=True)
    again = _form(client, phone="090-1234-5678", job="store-manager")
    assert again.status_code == 303
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "本日すでにご連絡しています" in page and "open-chat" not in page
    [greeted, kept] = _applicants(svc)
    assert greeted.token not in page and kept.state == "new"


def test_a_line_user_applying_again_that_day_keeps_their_conversation(svc, client):
    user = "U" + "a" * 32
    first = _api(client, channel="line", line_user_id=user).get_json()["id"]
    second = _api(client, channel="line", line_user_id=user, job="store-manager", phone="080-3333-4444",
                  email="x@example.com").get_json()["id"]
    assert stored_applicant(svc, first).line_user_id == user
    assert stored_applicant(svc, second).line_user_id is None
    assert stored_applicant(svc, second).person_id == first


# --- Nudges: the documented ones, once, to a person who never answers ------------------------------------------

def _deliver(svc) -> None:
    while run_once(svc, "test-worker"):
        pass


def _live_nudges(svc) -> list[Outbox]:
    return [n for n in _rows(svc, Kind.NUDGE) if n.status != OutboxStatus.CANCELLED]


def test_a_person_who_never_answers_gets_the_documented_nudges_once(svc, client):
    documented = len(svc.settings.policy.nudge_after_hours)
    for day in range(5):  # a new application every day: each is greeted (one a day), none brings more nudges
        assert _api(client, job=("bakery-staff", "store-manager")[day % 2]).get_json()["state"] == "greeted"
        for _ in range(26):
            svc.clock.advance(hours=1)
            _deliver(svc)
    assert len(_rows(svc, Kind.GREETING)) == 5
    assert len(_live_nudges(svc)) == documented
    assert len([n for n in _rows(svc, Kind.NUDGE) if n.status == OutboxStatus.SENT]) == documented


def test_a_person_who_answered_is_nudged_again_on_a_later_application(svc, client):
    chat = Chat(client, svc)
    chat.apply()
    chat.say("こんにちは")  # they answered: the first application's nudges are cancelled
    svc.clock.advance(hours=25)
    _api(client, job="store-manager")
    later = [n for n in _live_nudges(svc) if n.applicant_id != chat.id]
    assert len(later) == len(svc.settings.policy.nudge_after_hours)


def test_an_answer_about_one_application_stops_the_nudges_of_the_others(db_url, clock):
    from bot import create_app

    services = _services(db_url, clock, greetings_per_day=2)
    client = create_app({"TESTING": True}, services=services).test_client()
    first = Chat(client, services)
    first.apply()
    second = Chat(client, services)
    second.apply(job="store-manager")  # greeted too (two a day here); the first one's nudges are still to come
    assert {n.applicant_id for n in _live_nudges(services)} == {first.id}
    second.say("こんにちは")  # they answer, about the second application
    for _ in range(30):
        services.clock.advance(hours=1)
        _deliver(services)
    assert [n for n in _rows(services, Kind.NUDGE) if n.status == OutboxStatus.SENT] == []
    services.engine.dispose()
