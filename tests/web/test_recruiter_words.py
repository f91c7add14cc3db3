"""The recruiter page speaks a recruiter's words: channels and messages by name, never internal values (issue 14)."""
from __future__ import annotations

import re

from tests.conftest import AUTH, application
from tests.recruiters import sign_in


def _text(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page)


def test_channels_and_messages_are_named_in_words(svc, client):
    # SMS is chosen but has no transport here: messages go by the web chat, and the page says so in words.
    assert client.post("/api/applications", json=application(), headers=AUTH).status_code == 201
    sign_in(client, svc)
    words = _text(client.get("/recruiter/").get_data(as_text=True))
    assert "Webチャットでお送りしています" in words
    for internal in ("sandbox", "→", " via "):
        assert internal not in words, internal
    assert "未返信フォロー（" in words  # the nudges still to come, with their channel in words


def test_the_staff_bar_speaks_the_pages_language(svc, client):
    sign_in(client, svc)
    ja = _text(client.get("/recruiter/inbox").get_data(as_text=True))
    en_page = client.get("/recruiter/inbox?lang=en").get_data(as_text=True)
    en = _text(en_page)
    assert "受信箱" in ja and "ログアウト" in ja
    assert "Inbox" in en and "Sign out" in en and "（admin）" in en and "ログアウト" not in en and "管理者" not in en
    assert 'href="/recruiter/today?lang=en"' in en_page  # the language follows the bar's links


def test_the_read_only_conversation_links_to_the_inbox_to_reply(svc, client):
    applicant = client.post("/api/applications", json=application(), headers=AUTH).get_json()["id"]
    sign_in(client, svc)
    page = client.get(f"/recruiter/applicants/{applicant}").get_data(as_text=True)
    assert f'href="/recruiter/inbox/{applicant}"' in page and "受信箱で返信する" in page
    assert "sandbox" not in _text(page)
