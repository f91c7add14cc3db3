"""POST /api/applications: key, validation with per-field errors, idempotency, nothing half-written."""
import pytest
from sqlmodel import Session, func, select

from bot.db.models import Applicant, Outbox
from tests.conftest import AUTH, application


def count(svc, model):
    with Session(svc.engine) as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_valid_application_is_stored_normalised_and_greeted(client, svc):
    res = client.post("/api/applications", json=application(phone="090-1234-5678"), headers=AUTH)
    assert res.status_code == 201
    body = res.get_json()
    with Session(svc.engine) as s:
        a = s.get(Applicant, body["id"])
        assert a.phone == "+819012345678"
        assert a.contact_window == {"days": "weekdays", "from": "18:00", "to": "21:00"}
        greeting = s.exec(select(Outbox).where(Outbox.applicant_id == a.id, Outbox.kind == "greeting")).one()
    assert greeting.kind == "greeting" and greeting.status == "pending"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-intake-key"}])
def test_missing_or_wrong_key_is_refused_and_nothing_stored(client, svc, headers):
    res = client.post("/api/applications", json=application(), headers=headers)
    assert res.status_code == 401
    assert "Bearer" in res.get_json()["reason"]
    assert count(svc, Applicant) == 0


def test_without_an_intake_key_configured_every_call_is_refused(db_url, clock):
    from bot import create_app
    from tests.conftest import make_services

    svc = make_services(db_url, clock, env={"INTAKE_API_KEY": ""})
    client = create_app(services=svc).test_client()
    assert client.post("/api/applications", json=application(), headers={"Authorization": "Bearer "}).status_code == 401


@pytest.mark.parametrize("fields, field", [
    ({"name": None}, "name"),
    ({"name": "  "}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"name": 42}, "name"),
    ({"channel": "fax"}, "channel"),
    ({"channel": None}, "channel"),
    ({"job": "astronaut"}, "job"),
    ({"phone": "12"}, "phone"),
    ({"phone": "not a number"}, "phone"),
    ({"channel": "sms", "phone": None}, "phone"),
    ({"channel": "email", "email": None}, "email"),
    ({"email": "hanako@"}, "email"),
    ({"locale": "fr"}, "locale"),
    ({"line_user_id": "someone"}, "line_user_id"),
    ({"contact_window": "evenings"}, "contact_window"),
    ({"contact_window": {"days": "holidays"}}, "contact_window"),
    ({"contact_window": {"days": "any", "from": "25:00", "to": "21:00"}}, "contact_window"),
])
def test_bad_fields_get_422_naming_the_field_and_nothing_is_written(client, svc, fields, field):
    res = client.post("/api/applications", json=application(**fields), headers=AUTH)
    assert res.status_code == 422
    assert field in res.get_json()["errors"]
    assert count(svc, Applicant) == 0 and count(svc, Outbox) == 0


def test_every_problem_is_reported_at_once(client):
    res = client.post("/api/applications", json={"channel": "pigeon", "locale": "de"}, headers=AUTH)
    assert set(res.get_json()["errors"]) >= {"name", "channel", "job", "locale"}


@pytest.mark.parametrize("data, content_type", [
    ("not json", "application/json"), ("[1, 2]", "application/json"), ("name=x", "application/x-www-form-urlencoded"),
    ("", "application/json"),
])
def test_non_object_bodies_are_refused_with_422(client, svc, data, content_type):
    res = client.post("/api/applications", data=data, content_type=content_type, headers=AUTH)
    assert res.status_code == 422
    assert "body" in res.get_json()["errors"]
    assert count(svc, Applicant) == 0


def test_same_external_id_never_creates_a_second_applicant(client, svc):
    first = client.post("/api/applications", json=application(external_id="board-77"), headers=AUTH)
    again = client.post("/api/applications", json=application(external_id="board-77", name="別の名前"), headers=AUTH)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["created"] is False and again.headers["Idempotent-Replayed"] == "true"
    assert count(svc, Applicant) == 1
    with Session(svc.engine) as s:  # greeted once (the other rows are the no-reply nudges)
        assert s.exec(select(func.count()).where(Outbox.kind == "greeting")).one() == 1


def test_line_application_without_user_id_gets_a_link_code(client):
    res = client.post("/api/applications", json=application(channel="line", phone=None), headers=AUTH)
    body = res.get_json()
    assert res.status_code == 201
    assert len(body["line_link_code"]) == 6 and body["line_link_code"].isalnum()


def test_oversized_body_is_refused_without_a_500(client, svc):
    res = client.post("/api/applications", json=application(name="x" * 300_000), headers=AUTH)
    assert res.status_code == 413
    assert count(svc, Applicant) == 0
