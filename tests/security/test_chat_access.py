"""The web chat belongs to candidates who talk to us there (issue 13, item 7): a candidate on a real channel has
no chat, so their token cannot read or cancel anything here, and a chat closes like the candidate page."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.db.models import Applicant, MessageLog
from tests.conftest import AUTH, RecordingChannel, application


def _token(svc, applicant_id: int) -> str:
    with Session(svc.engine) as s:
        return s.get(Applicant, applicant_id).token


def test_a_candidate_on_a_real_channel_has_no_chat(client, svc):
    svc.channels["email"] = RecordingChannel()  # e-mail is configured: the candidate talks to us by mail
    res = client.post("/api/applications", json=application(channel="email", external_id="mail-1"), headers=AUTH)
    token = _token(svc, res.get_json()["id"])
    assert client.get(f"/chat/{token}").status_code == 404
    assert client.get(f"/chat/{token}/messages").status_code == 404
    with Session(svc.engine) as s:
        before = s.exec(select(MessageLog)).all()
    assert client.post(f"/chat/{token}/say", json={"postback": "cancel:yes"}).status_code == 404
    with Session(svc.engine) as s:
        assert s.exec(select(MessageLog)).all() == before


def test_a_channel_that_is_off_talks_in_the_chat_until_it_closes(client, svc, clock):
    # No e-mail transport in this set-up: the candidate's conversation happens in the chat (the demo).
    res = client.post("/api/applications", json=application(channel="email", external_id="mail-2"), headers=AUTH)
    token = _token(svc, res.get_json()["id"])
    assert client.get(f"/chat/{token}").status_code == 200
    assert client.get(f"/chat/{token}/messages").status_code == 200
    clock.advance(days=31)  # no booking, no word for a month: closed, as the candidate page
    assert client.get(f"/chat/{token}/messages").status_code == 410
    assert client.post(f"/chat/{token}/say", json={"text": "こんにちは"}).status_code == 410
