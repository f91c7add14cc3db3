"""Error answers: a calm page in the candidate's language for a browser, JSON for the APIs and the pages' scripts."""
from __future__ import annotations

import pytest
from flask import abort
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import TooManyRequests

from tests.conftest import AUTH, application

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
FETCH = {"Accept": "*/*"}  # what a page's fetch() sends
JA = {**BROWSER, "Accept-Language": "ja,en;q=0.8"}
EN = {**BROWSER, "Accept-Language": "en-GB,en;q=0.9"}


def _html(res) -> str:
    assert res.mimetype == "text/html", (res.status_code, res.mimetype, res.get_data(as_text=True)[:200])
    return res.get_data(as_text=True)


def test_a_browser_opening_a_chat_link_that_does_not_exist_gets_the_japanese_link_page(client):
    res = client.get("/chat/no-such-token", headers=JA)
    page = _html(res)
    assert res.status_code == 404
    assert '<html lang="ja">' in page and "<h1>このリンクは使えなくなっています</h1>" in page
    assert "株式会社そよかぜベーカリー" in page
    assert '（<span class="nowrap">03-6820-1234</span>）までお電話ください' in page  # the number, on one line
    assert '<a class="button" id="call" href="tel:03-6820-1234">電話する' in page
    assert page.count("<h1>") == 1 and "<main" in page


def test_the_page_speaks_english_to_a_browser_that_prefers_it_and_when_asked(client):
    page = _html(client.get("/chat/no-such-token", headers=EN))
    assert '<html lang="en">' in page and "This link no longer works" in page and "Soyokaze Bakery Co." in page
    assert "+81 3-6820-1234" in page  # dialled from abroad: an English reader with no number of their own
    asked = _html(client.get("/chat/no-such-token?lang=en", headers=JA))
    assert "This link no longer works" in asked
    back = _html(client.get("/chat/no-such-token?lang=ja", headers=EN))
    assert "このリンクは使えなくなっています" in back and 'href="/chat/no-such-token?lang=en"' in back


def test_japanese_is_the_default_without_any_language_preference(client):
    page = _html(client.get("/no/such/page", headers=BROWSER))
    assert '<html lang="ja">' in page and "ページが見つかりません" in page


def test_an_unknown_page_is_a_404_page_not_the_link_wording(client):
    res = client.get("/no/such/page", headers=EN)
    page = _html(res)
    assert res.status_code == 404 and "We could not find this page" in page and "This link" not in page


def test_a_405_keeps_its_allow_header_and_says_what_to_do(client):
    res = client.delete("/apply", headers=EN)
    page = _html(res)
    assert res.status_code == 405 and "GET" in res.headers["Allow"]
    assert "Please go back to the previous page and try again." in page


@pytest.mark.parametrize("path", ["/chat/no-such-token/messages", "/chat/no-such-token/say"])
def test_the_chat_script_endpoints_keep_json_even_for_a_browser_accept(client, path):
    res = client.post(path, json={"text": "1"}) if path.endswith("/say") else client.get(path, headers=BROWSER)
    assert res.status_code == 404 and res.get_json() == {"error": "Not Found", "reason": "no such chat"}


def test_the_api_keeps_its_json_errors_whatever_the_client_accepts(client):
    res = client.post("/api/applications", json=application(), headers={**BROWSER, "Authorization": "Bearer no"})
    assert res.status_code == 401 and set(res.get_json()) == {"error", "reason"}
    assert client.get("/api/nothing-here", headers=BROWSER).get_json()["error"] == "Not Found"
    assert client.post("/webhooks/line", data="{}", headers=BROWSER).mimetype == "application/json"


def test_a_client_that_asks_for_json_gets_json_on_a_page_path(client):
    res = client.get("/chat/no-such-token", headers={"Accept": "application/json"})
    assert res.status_code == 404 and res.get_json()["reason"] == "no such chat"
    xhr = client.get("/no/such/page", headers={**FETCH, "X-Requested-With": "XMLHttpRequest"})
    assert xhr.status_code == 404 and xhr.mimetype == "application/json"


def test_a_429_page_keeps_retry_after_and_says_how_long_to_wait(app, client):
    @app.get("/slow-down")
    def slow_down():
        raise TooManyRequests(retry_after=600)

    res = client.get("/slow-down", headers=JA)
    page = _html(res)
    assert res.status_code == 429 and res.headers["Retry-After"] == "600"
    assert "10分ほどたってから、もう一度お試しください。" in page and "03-6820-1234" in page
    api = client.get("/slow-down", headers={"Accept": "application/json"})
    assert api.status_code == 429 and api.headers["Retry-After"] == "600" and api.get_json()["error"]


def test_an_unexpected_error_is_a_500_page_that_asks_to_try_again(app, client):
    @app.get("/broken")
    def broken():
        raise RuntimeError("a bug")

    app.testing = False  # let the handler answer instead of the test client re-raising
    app.config["PROPAGATE_EXCEPTIONS"] = False
    res = client.get("/broken", headers=EN)
    page = _html(res)
    assert res.status_code == 500 and "Please try again in a moment." in page and "a bug" not in page
    ja = _html(client.get("/broken", headers=JA))
    assert "少し時間をおいてから、もう一度お試しください。" in ja
    assert client.get("/broken", headers={"Accept": "application/json"}).get_json()["error"] == "Internal Server Error"


def test_a_database_outage_is_a_503_page_with_retry_after(app, client):
    @app.get("/db-down")
    def db_down():
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    res = client.get("/db-down", headers=JA)
    page = _html(res)
    assert res.status_code == 503 and res.headers["Retry-After"] == "30"
    assert "ただいま混み合っています" in page and "connection refused" not in page


def test_the_intake_api_still_answers_json_when_the_database_is_down(app, client, svc):
    from sqlalchemy import create_engine

    svc.engine = create_engine("sqlite:////nonexistent/dir/db.sqlite3")
    res = client.post("/api/applications", json=application(external_id="x-1"), headers={**AUTH, **BROWSER})
    assert res.status_code == 503 and res.headers["Retry-After"] == "30" and "try again" in res.get_json()["reason"]


def test_an_error_page_escapes_what_the_address_carries(client):
    page = _html(client.get('/chat/"><script>alert(1)</script>', headers=JA))
    assert "<script>alert(1)" not in page


def test_a_form_post_too_large_gets_a_page_not_a_second_error(client):
    res = client.post("/apply", data={"name": "x" * 300_000, "lang": "en"}, headers=EN)
    page = _html(res)
    assert res.status_code == 413 and "too large" in page


def test_abort_with_a_reason_still_shows_our_words_not_the_developers(app, client):
    @app.get("/gone")
    def gone():
        abort(410, "internal detail")

    page = _html(client.get("/gone", headers=JA))
    assert "internal detail" not in page and "このページは終了しました" in page


def test_a_forged_mailed_link_reads_as_a_broken_link(client):
    res = client.get("/recruiter/outcome/no-such-booking/attended/forged", headers=JA)
    assert res.status_code == 403 and "このリンクは使えなくなっています" in _html(res)
