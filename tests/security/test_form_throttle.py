"""The form's rate limits (issue 13, item 1): a script posting the form from one network, or to one number, gets a
429 that says what to do, and nothing is sent; the counts hold across processes (the database, or Redis).

The windows are the defaults ("5 per 10 minutes; 20 per day", "3 per day"): each test runs in well under a minute,
so no window ends in the middle of one, whatever the time of day."""
from __future__ import annotations

import html
import threading

import pytest

from bot import create_app
from bot.core.vocab import RefusalReason
from bot.service.ratestore import DatabaseStorage
from tests.conftest import AUTH, application
from tests.fakes.smtp_server import free_port
from tests.security.formguard import applicants, csrf, guarded_services, phone, post_form, refused


@pytest.fixture
def guarded(db_url):
    svc = guarded_services(db_url, proof_of_work=False)
    yield svc
    svc.engine.dispose()


@pytest.fixture
def client(guarded):
    return create_app({"TESTING": True}, services=guarded).test_client()


def notice(res) -> str:
    page = res.get_data(as_text=True)
    return html.unescape(page.split('id="notice">')[1].split("</p>")[0])


def test_25_posts_from_one_client_take_five_and_refuse_the_rest_with_retry_after(guarded, client):
    token = csrf(client)
    answers = [post_form(client, phone=phone(i), token=token) for i in range(25)]
    assert [a.status_code for a in answers] == [303] * 5 + [429] * 20
    waits = [int(a.headers["Retry-After"]) for a in answers[5:]]
    assert all(0 < wait <= 600 for wait in waits)
    said = notice(answers[5])
    assert "たくさんの応募" in said and "分ほど" in said and "03-6820-1234" in said  # what to do: wait, or call
    assert 'value="090-1005-5678"' in answers[5].get_data(as_text=True)  # what they typed is kept for later
    assert applicants(guarded) == 5
    assert refused(guarded)[RefusalReason.RATE_CLIENT] == 20


def test_the_refusal_speaks_english_on_the_english_form(client):
    for i in range(5):
        assert post_form(client, phone=phone(i), lang="en").status_code == 303
    res = post_form(client, phone=phone(9), lang="en")
    assert res.status_code == 429
    assert "many applications from your network" in notice(res) and "+81 3-6820-1234" in notice(res)


def test_one_network_is_one_client_and_other_networks_go_on(guarded, client):
    for i in range(5):
        assert post_form(client, remote=f"198.51.100.{i + 1}", phone=phone(i)).status_code == 303
    assert post_form(client, remote="198.51.100.200", phone=phone(6)).status_code == 429  # the same /24
    assert post_form(client, remote="192.0.2.1", phone=phone(7)).status_code == 303
    v6 = "2001:db8:1:"
    for i in range(5):
        assert post_form(client, remote=f"{v6}{i}::1", phone=phone(10 + i)).status_code == 303
    assert post_form(client, remote=f"{v6}ffff::9", phone=phone(20)).status_code == 429  # the same /48


def test_the_same_number_from_different_networks_is_limited_however_it_is_written(guarded, client):
    written = ["090-4444-5678", "09044445678", "+81 90 4444 5678", "０９０−４４４４−５６７８", "090 4444 5678"]
    answers = [post_form(client, remote=f"192.0.2{i}.9", phone=number) for i, number in enumerate(written)]
    assert [a.status_code for a in answers] == [303, 303, 303, 429, 429]
    assert 0 < int(answers[3].headers["Retry-After"]) <= 24 * 3600
    assert "すでに何度かご応募" in notice(answers[3])
    assert refused(guarded)[RefusalReason.RATE_DESTINATION] == 2
    # Another number from the same networks is fine: the limit is the number's.
    assert post_form(client, remote="192.0.23.9", phone=phone(1)).status_code == 303


def test_an_email_address_is_one_destination_whatever_its_case(guarded, client):
    for i, email in enumerate(["hanako@example.com", "Hanako@Example.com", "HANAKO@EXAMPLE.COM"]):
        res = post_form(client, remote=f"198.18.{i}.1", phone="", channel="email", email=email)
        assert res.status_code == 303
    res = post_form(client, remote="198.18.9.1", phone="", channel="email", email="hanako@example.com")
    assert res.status_code == 429


def test_an_invalid_application_is_told_its_mistake_before_any_destination_limit(guarded, client):
    for i in range(3):
        assert post_form(client, remote=f"192.0.2{i}.9", phone="090-4444-5678").status_code == 303
    res = post_form(client, remote="192.0.29.9", phone="090-4444-5678", name="")
    assert res.status_code == 422  # the form's own error first: the limit is checked on a valid application


def test_reading_the_form_is_not_limited(client):
    assert [client.get("/apply").status_code for _ in range(30)] == [200] * 30


def test_the_intake_api_is_not_throttled_per_client(guarded, client):
    answers = [client.post("/api/applications", json=application(phone=phone(i), external_id=f"board-{i}"),
                           headers=AUTH, environ_base={"REMOTE_ADDR": "203.0.113.7"}) for i in range(25)]
    assert [a.status_code for a in answers] == [201] * 25
    assert not {RefusalReason.RATE_CLIENT, RefusalReason.RATE_DESTINATION} & refused(guarded).keys()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_app_instances_on_one_database_share_the_counts(database, db_url, request):
    url = request.getfixturevalue("pg_url") if database == "postgresql" else db_url
    first, second = guarded_services(url, proof_of_work=False), guarded_services(url, proof_of_work=False)
    try:
        clients = [create_app({"TESTING": True}, services=s).test_client() for s in (first, second)]
        tokens = [csrf(c) for c in clients]
        codes = [post_form(clients[i % 2], phone=phone(i), token=tokens[i % 2]).status_code for i in range(10)]
        assert codes.count(303) == 5 and codes[:5] == [303] * 5
        assert applicants(first) == 5
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_redis_storage_counts_for_every_process(redis_url, db_url):
    import redis

    first, second = (guarded_services(db_url, env={"REDIS_URL": redis_url}, proof_of_work=False) for _ in range(2))
    try:
        clients = [create_app({"TESTING": True}, services=s).test_client() for s in (first, second)]
        tokens = [csrf(c) for c in clients]
        codes = [post_form(clients[i % 2], phone=phone(i), token=tokens[i % 2]).status_code for i in range(10)]
        assert codes == [303] * 5 + [429] * 5
        keys = redis.Redis.from_url(redis_url).keys("*")
        assert keys and all(k.startswith(b"sokuresu") for k in keys)
        assert not any(b"090" in k or b"+81" in k for k in keys)  # no number in the keys: an HMAC of it
    finally:
        first.engine.dispose()
        second.engine.dispose()


def test_a_redis_that_does_not_answer_leaves_the_counting_to_the_database(db_url, caplog):
    svc = guarded_services(db_url, env={"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}, proof_of_work=False)
    try:
        client = create_app({"TESTING": True}, services=svc).test_client()
        token = csrf(client)
        codes = [post_form(client, phone=phone(i), token=token).status_code for i in range(7)]
        assert codes == [303] * 5 + [429] * 2
        assert "counting in the database" in caplog.text
    finally:
        svc.engine.dispose()


def test_x_forwarded_for_is_ignored_unless_trusted_proxies_says_how_many(guarded, client):
    token = csrf(client)
    # A script that writes itself a new address each time is still one client.
    codes = [post_form(client, phone=phone(i), token=token, headers={"X-Forwarded-For": f"198.51.{i}.1"}).status_code
             for i in range(7)]
    assert codes == [303] * 5 + [429] * 2


def test_behind_one_trusted_proxy_the_address_it_saw_is_the_client(tmp_path):
    svc = guarded_services(f"sqlite:///{tmp_path / 'proxy.sqlite3'}", env={"TRUSTED_PROXIES": "1"},
                           proof_of_work=False)
    client = create_app({"TESTING": True}, services=svc).test_client()
    token = csrf(client)

    def through_proxy(i: int, forwarded: str) -> int:
        return post_form(client, remote="10.0.0.2", phone=phone(i), token=token,
                         headers={"X-Forwarded-For": forwarded}).status_code

    # Different candidates behind one proxy are different clients...
    assert [through_proxy(i, f"198.51.{i}.1") for i in range(8)] == [303] * 8
    # ...and one client cannot pass for others by writing X-Forwarded-For itself: the proxy appends what it saw.
    assert [through_proxy(10 + i, f"192.0.{i}.1, 203.0.113.50") for i in range(7)] == [303] * 5 + [429] * 2
    svc.engine.dispose()


# --- The database storage itself ------------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_database_counts_are_atomic_under_concurrent_hits(database, db_url, request):
    url = request.getfixturevalue("pg_url") if database == "postgresql" else db_url
    svc = guarded_services(url, proof_of_work=False)
    storage = DatabaseStorage(svc.engine)
    seen: list[int] = []
    lock = threading.Lock()

    def hit():
        for _ in range(25):
            count = storage.incr("race", 3600)
            with lock:
                seen.append(count)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(1, 201))  # every hit saw its own count: none lost, none doubled
    assert storage.get("race") == 200
    svc.engine.dispose()


def test_a_window_starts_again_when_it_is_over_and_old_windows_are_swept(svc):
    clock = Clock()
    storage = DatabaseStorage(svc.engine, clock=clock)
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get_expiry("k") == clock.now + 60
    clock.now += 61
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1 and storage.get_expiry("k") == clock.now + 60
    storage.incr("other", 10)
    clock.now += 120
    storage.incr("new", 10)  # more than a minute since the last sweep: the two windows that are over go
    from sqlmodel import Session, select

    from bot.db.models import RateCounter

    with Session(svc.engine) as s:
        assert [row.key for row in s.exec(select(RateCounter)).all()] == ["new"]
    storage.clear("new")
    assert storage.get("new") == 0 and storage.check()


def test_trusted_proxies_is_a_small_number_or_the_process_does_not_start():
    from bot.config import Config, ConfigError

    base = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "test-secret-key-0123456789abcdef"}
    assert Config.from_env(base).trusted_proxies == 0
    assert Config.from_env({**base, "TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    for bad in ("yes", "-1", "１", "99"):
        with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
            Config.from_env({**base, "TRUSTED_PROXIES": bad})
