"""The form's proof of work (issue 13, item 1): a post needs a solution of a challenge we signed, fresh and used
once, in any process; without one the form says so next to the check and nothing is stored or sent."""
from __future__ import annotations

import base64
import html
import json
import time

import pytest
from altcha import Challenge, Payload, create_challenge, solve_challenge

from bot import create_app
from bot.core.vocab import RefusalReason
from bot.service import proof
from tests.security.formguard import applicants, guarded_services, phone, post_form, refused


@pytest.fixture
def guarded(db_url):
    svc = guarded_services(db_url)  # the defaults: proof of work on, cost 50 000
    yield svc
    svc.engine.dispose()


@pytest.fixture
def client(guarded):
    return create_app({"TESTING": True}, services=guarded).test_client()


def solved(client) -> str:
    """What the widget posts: the challenge from our endpoint with its solution, base64 JSON."""
    res = client.get("/apply/challenge")
    assert res.status_code == 200 and res.headers["Cache-Control"] == "no-store"
    challenge = Challenge.from_dict(res.get_json())
    return Payload(challenge, solve_challenge(challenge)).to_base64()


def widget_error(res) -> str:
    return html.unescape(res.get_data(as_text=True).split('id="altcha-error">')[1].split("</p>")[0])


def test_a_solved_challenge_posts_the_application(guarded, client):
    res = post_form(client, altcha=solved(client))
    assert res.status_code == 303 and "/apply/thanks/" in res.headers["Location"]
    assert applicants(guarded) == 1


def test_without_a_solution_the_form_says_so_next_to_the_check(guarded, client):
    res = post_form(client)
    assert res.status_code == 422
    assert widget_error(res) == "送信前の確認が終わっていません。もう一度「応募する」を押してください。"
    assert 'value="山田 花子"' in res.get_data(as_text=True)
    assert applicants(guarded) == 0 and refused(guarded) == {RefusalReason.PROOF_OF_WORK: 1}
    res = post_form(client, lang="en")
    assert widget_error(res) == "The check before sending did not finish. Please press Apply again."


@pytest.mark.parametrize("forge", ["garbage", "not base64 !", "wrong key", "unsolved", "tampered", "test mode",
                                   "deep", "list"])
def test_a_forged_or_unsolved_solution_is_refused(guarded, client, forge):
    payload = json.loads(base64.b64decode(solved(client)))
    if forge == "wrong key":
        payload["solution"]["derivedKey"] = "00" * 32
    elif forge == "unsolved":
        payload["solution"]["counter"] += 1
        payload["solution"]["derivedKey"] = payload["solution"]["derivedKey"][::-1]
    elif forge == "tampered":  # an easier challenge of one's own, with our signature copied over
        payload["challenge"]["parameters"]["keyPrefix"] = "00"
    elif forge == "test mode":  # what the widget posts in its test mode
        payload = {"challenge": None, "solution": None, "test": True}
    elif forge == "deep":
        payload = {"challenge": {"parameters": {"data": [[[[[[[[[[]]]]]]]]]]}}}
    elif forge == "list":
        payload = [1, 2, 3]
    encoded = {"garbage": "eyJ", "not base64 !": "not base64 !"}.get(forge) or base64.b64encode(
        json.dumps(payload).encode()).decode()
    res = post_form(client, altcha=encoded)
    assert res.status_code == 422 and widget_error(res).startswith("送信前の確認ができませんでした")
    assert applicants(guarded) == 0


def test_an_expired_challenge_is_refused(guarded, client):
    challenge_key, key_key = proof._keys(guarded)
    old = create_challenge(proof.ALGORITHM, 1, counter=7, expires_at=int(time.time()) - 1,
                           hmac_secret=challenge_key, hmac_key_secret=key_key)
    res = post_form(client, altcha=Payload(old, solve_challenge(old)).to_base64())
    assert res.status_code == 422 and "有効期限が切れました" in widget_error(res)


def test_a_solution_is_good_for_one_application_in_any_process(guarded, db_url):
    other = guarded_services(db_url)
    try:
        first = create_app({"TESTING": True}, services=guarded).test_client()
        second = create_app({"TESTING": True}, services=other).test_client()
        payload = solved(first)
        assert post_form(first, phone=phone(1), altcha=payload).status_code == 303
        again = post_form(second, phone=phone(2), altcha=payload)
        assert again.status_code == 422 and "すでに使われています" in widget_error(again)
        assert post_form(first, phone=phone(3), altcha=payload).status_code == 422
        assert applicants(guarded) == 1 and refused(guarded)[RefusalReason.PROOF_OF_WORK] == 2
    finally:
        other.engine.dispose()


def test_a_solution_is_used_once_with_redis_too(redis_url, db_url):
    svc = guarded_services(db_url, env={"REDIS_URL": redis_url})
    try:
        client = create_app({"TESTING": True}, services=svc).test_client()
        payload = solved(client)
        assert post_form(client, phone=phone(1), altcha=payload).status_code == 303
        assert post_form(client, phone=phone(2), altcha=payload).status_code == 422
    finally:
        svc.engine.dispose()


def test_the_hidden_counter_stays_below_the_cost(db_url):
    svc = guarded_services(db_url, proof_of_work_cost=1000)
    try:
        client = create_app({"TESTING": True}, services=svc).test_client()
        for _ in range(20):
            challenge = Challenge.from_dict(client.get("/apply/challenge").get_json())
            assert challenge.parameters.algorithm == "SHA-256"
            assert 0 < challenge.parameters.expires_at - time.time() <= proof.CHALLENGE_SECONDS
            assert solve_challenge(challenge, timeout=5).counter < 1000
    finally:
        svc.engine.dispose()


def test_the_page_carries_the_widget_in_the_page_language(client):
    page = client.get("/apply").get_data(as_text=True)
    assert '<altcha-widget name="altcha" challenge="/apply/challenge" auto="onsubmit" language="ja"' in page
    assert "/static/vendor/altcha/altcha.min.js" in page and "/static/apply.js" in page
    assert "ロボットによる送信ではないことを確認します" in html.unescape(page)
    page = client.get("/apply?lang=en").get_data(as_text=True)
    assert 'language="en"' in page and "Checking that a person is sending this" in html.unescape(page)


def test_the_vendored_widget_is_served_with_its_licence(client):
    for path in ("vendor/altcha/altcha.min.js", "vendor/altcha/workers/sha.js", "apply.js"):
        res = client.get(f"/static/{path}")
        assert res.status_code == 200 and res.mimetype == "text/javascript"
    assert "MIT License" in client.get("/static/vendor/altcha/LICENSE.txt").get_data(as_text=True)


def test_turned_off_the_form_has_no_widget_and_needs_no_solution(db_url):
    svc = guarded_services(db_url, proof_of_work=False)
    try:
        client = create_app({"TESTING": True}, services=svc).test_client()
        assert "altcha" not in client.get("/apply").get_data(as_text=True)
        assert post_form(client).status_code == 303
    finally:
        svc.engine.dispose()
