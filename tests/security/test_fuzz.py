"""Fuzzing the doors anyone can knock on (issue 13): the intake API, the LINE and Twilio webhooks (correctly signed,
so what arrives gets past the signature check and reaches the parsers) and the web chat.

Whatever arrives — nested JSON, any Unicode (lone surrogates, NUL, text-direction marks), huge numbers, wrong
types — the answer is never a 5xx, and nothing is half-written: a refused call changes no table, an accepted
application is one applicant with its greeting (or, when its greeting is held back, the recruiter's alert), every
candidate message belongs to an applicant, and a LINE event kept in the inbox is carried out without an error.

Reproducible and bounded for CI: derandomized, no example database, a fixed number of examples per door.
"""
from __future__ import annotations

import json
import string
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from sqlalchemy import exists, func
from sqlmodel import Session, select

from bot import create_app
from bot.core.vocab import CALENDAR, RECRUITER_CHANNEL, Kind
from bot.db.models import Applicant, Booking, InboxItem, MessageLog, Outbox, ShortLink
from tests.channels.line.drivers import LINE_SECRET
from tests.channels.sms.drivers import TWILIO_TOKEN
from tests.conftest import AUTH, Chat, make_services

FUZZ = settings(max_examples=100, deadline=None, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large, HealthCheck.filter_too_much])

# --- what arrives ------------------------------------------------------------------------------------------------

# Any Unicode, weighted towards what has broken services before: NUL and other controls, lone surrogates (legal as
# \ud800 escapes in JSON), text-direction and zero-width characters, markup and full-width forms.
NASTY = "\x00\x01\x1b\x7f\u202e\u2066\u200b\ufeff\n\r\t<>\"'&%\\/:@＠０９ｈ"
CHARS = st.characters() | st.characters(categories=["Cs"]) | st.sampled_from(NASTY)
TEXT = st.text(CHARS, max_size=40) | st.text(CHARS, min_size=180, max_size=400)
FORM_TEXT = st.text(st.characters(exclude_categories=["Cs"]) | st.sampled_from(NASTY), max_size=60)
NUMBERS = (st.integers() | st.integers(min_value=-10**300, max_value=10**300)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1e20, -1, 0, 2**63, 2**64, 1e308]))
SCALARS = st.none() | st.booleans() | NUMBERS | TEXT
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)


def mostly(plausible, other, weight: int = 3):
    """`plausible` `weight` times out of `weight + 1`, else `other` (one_of would draw each about as often)."""
    return st.integers(0, weight).flatmap(lambda n: other if n == 0 else plausible)


def either(plausible, weight: int = 3):
    """Mostly a value the field might really hold, sometimes anything at all."""
    return mostly(plausible, JSON, weight)


PHONES = st.sampled_from(["090-1234-5678", "+819012345678", "０９０１２３４５６７８", "03-1234-5678", "0120-123-456",
                          "+1 900 555 0100", "+44 909 879 0000", "+1 415 555 0100", "090-1234-5678\x00", "+", "1" * 40])
FIELDS = {
    "name": st.sampled_from(["山田 花子", "Hanako Yamada", "ｈａｎａｋｏ", "x" * 201, "www.evil.example"]) | TEXT,
    "channel": st.sampled_from(["line", "sms", "email", "sandbox", "SMS", ""]),
    "job": st.sampled_from(["bakery-staff", "cafe-barista", "nope", ""]),
    "locale": st.sampled_from(["ja", "en", "fr"]),
    "email": st.sampled_from(["hanako@example.com", "HANAKO@EXAMPLE.COM", "a@b", "x@" + "y" * 300 + ".com"]) | TEXT,
    "phone": PHONES | TEXT,
    "line_user_id": st.sampled_from(["U" + "0" * 32, "U" + "f" * 32, "U123"]),
    "contact_window": st.fixed_dictionaries({}, optional={
        "days": either(st.sampled_from(["any", "weekdays", "weekends", "mon", "holidays"])),
        "from": either(st.sampled_from(["18:00", "00:00", "24:00", "9:00"])),
        "to": either(st.sampled_from(["21:00", "18:00", "23:59"]))}),
    "source": TEXT,
    "external_id": st.sampled_from(["board-1", "board-2", "board-3"]) | TEXT,
}
VALID = st.sampled_from([
    {"name": "山田 花子", "channel": "sms", "phone": "090-1234-5678", "job": "bakery-staff"},
    {"name": "Hanako", "channel": "email", "email": "hanako@example.com", "job": "bakery-staff", "locale": "en"},
    {"name": "花子", "channel": "line", "job": "bakery-staff"},
    {"name": "花子", "channel": "line", "line_user_id": "U" + "a" * 32, "job": "bakery-staff", "phone": "09012345678"},
])


@st.composite
def applications(draw) -> dict:
    """A valid application with a few of its fields changed, dropped or added: deep enough to be stored."""
    body = dict(draw(VALID))
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)), max_size=2)):
        body[name] = draw(either(FIELDS[name]))
    for name in draw(st.sets(st.sampled_from(sorted(body)), max_size=1)):
        del body[name]
    return body


APPLICATION = applications()


def _body(value) -> bytes:
    """JSON as a client would send it: escapes for what is not ASCII, so lone surrogates travel as \\udXXX."""
    return json.dumps(value).encode()


# --- what must hold after every example ------------------------------------------------------------------------

TABLES = (Applicant, Outbox, MessageLog, Booking, InboxItem, ShortLink)


def counts(svc) -> dict[str, int]:
    with Session(svc.engine) as s:
        return {t.__name__: s.exec(select(func.count()).select_from(t)).one() for t in TABLES}


def assert_whole(svc) -> None:
    """Nothing half-written: each applicant has its greeting or the recruiter's alert, each message an applicant."""
    with Session(svc.engine) as s:
        greeted_or_alerted = exists().where(Outbox.applicant_id == Applicant.id,
                                            (Outbox.kind == Kind.GREETING) | (Outbox.channel == RECRUITER_CHANNEL))
        silent = s.exec(select(Applicant.id).where(~greeted_or_alerted)).all()
        assert silent == [], f"applicants stored without their greeting or an alert: {silent}"
        candidates = Outbox.channel.not_in([RECRUITER_CHANNEL, CALENDAR])
        lost = s.exec(select(Outbox.id).where(candidates, Outbox.applicant_id.is_not(None),
                                              ~exists().where(Applicant.id == Outbox.applicant_id))).all()
        # A row without an applicant (to a LINE friend who has not applied) names its address in the payload, or
        # is only a reply (to a LINE group, with the event's reply token).
        unaddressed = [(row.id, row.channel, row.kind, row.payload)
                       for row in s.exec(select(Outbox).where(candidates, Outbox.applicant_id.is_(None)))
                       if not (row.payload.get(getattr(svc.channel_info.get(row.channel), "payload_to", None))
                               or row.payload.get("reply_only"))]
        assert lost + unaddressed == [], f"messages to nobody: {lost + unaddressed}"
        logged = s.exec(select(MessageLog.id).where(MessageLog.applicant_id.is_not(None),
                                                    ~exists().where(Applicant.id == MessageLog.applicant_id))).all()
        assert logged == [], f"conversation lines of nobody: {logged}"


def assert_answered(res) -> None:
    if currently_in_test_context():  # --hypothesis-show-statistics: how far the examples got
        reason = (res.get_json(silent=True) or {}).get("reason", "") if res.is_json else ""
        event(f"HTTP {res.status_code} {reason[:50]}".strip())
    assert res.status_code < 500, (res.status_code, res.get_data(as_text=True)[:500])


# --- the intake API --------------------------------------------------------------------------------------------

def post_application(client, svc, raw: bytes, content_type: str = "application/json") -> None:
    before = counts(svc)
    res = client.post("/api/applications", data=raw, headers=AUTH, content_type=content_type)
    assert_answered(res)
    after = counts(svc)
    if res.status_code == 201 and res.get_json()["created"]:
        assert after["Applicant"] == before["Applicant"] + 1
    elif res.status_code == 201:
        assert after["Applicant"] == before["Applicant"] and res.headers["Idempotent-Replayed"] == "true"
    else:
        assert res.status_code in (400, 413, 422), res.status_code
        assert after == before, f"a refused application ({res.status_code}) changed {before} into {after}"
    assert_whole(svc)


@settings(FUZZ, max_examples=200)
@given(body=mostly(APPLICATION, JSON))
@example(body={"name": "\ud800", "channel": "email", "email": "a@example.com", "job": "bakery-staff"})
@example(body={"name": "花子", "channel": "sms", "phone": "090-1234-5678", "job": "bakery-staff",
               "source": "\udfff", "external_id": "\ud83d"})
@example(body={"name": "花子", "channel": "email", "email": "a@example.com", "job": "bakery-staff",
               "contact_window": {"days": "any", "from": "18:00", "to": "\ud800"}})
@example(body={"name": "花子", "channel": "sms", "phone": "+1 900 555 0100", "job": ["bakery-staff"]})  # refused
def test_intake_api_never_fails_and_never_half_writes(client, svc, body):
    post_application(client, svc, _body(body))


@pytest.mark.parametrize("raw", [b'{"name": ' + b"1" * 5000 + b"}", b"[" * 50_000, b"\xff\xfe{}",
                                 b'{"name": "\xed\xa0\x80"}', b"NaN", b'{"name": Infinity}', b"", b"\x00"])
def test_intake_api_takes_any_bytes(client, svc, raw):
    post_application(client, svc, raw)


@pytest.mark.postgres
@settings(FUZZ, max_examples=25)
@given(body=mostly(APPLICATION, JSON))
@example(body={"name": "\ud800", "channel": "email", "email": "a@example.com", "job": "bakery-staff"})
@example(body={"name": "花子", "channel": "email", "email": "a@example.com", "job": "bakery-staff",
               "external_id": "x" * 199 + "\u00e9"})
def test_intake_api_on_postgresql(pg_client, pg_services, body):
    post_application(pg_client, pg_services, _body(body))


@pytest.fixture
def pg_services(pg_url, clock):
    services = make_services(pg_url, clock)
    yield services
    services.engine.dispose()


@pytest.fixture
def pg_client(pg_services):
    return create_app({"TESTING": True}, services=pg_services).test_client()


# --- the links in messages and feeds ----------------------------------------------------------------------------

DOORS = ["GET /calendar/{}.ics", "GET /booking/{}.ics", "GET /recruiter/login/{}",
         "GET /recruiter/outcome/{}/attended/{}", "GET /c/{}", "POST /c/{}/book", "GET /u/{}", "POST /u/{}",
         "GET /r/{}", "GET /apply/thanks/{}", "GET /chat/{}", "GET /chat/{}/messages", "GET /apply/{}"]


@FUZZ
@given(door=st.sampled_from(DOORS), token=FORM_TEXT | st.text(string.hexdigits, min_size=32, max_size=40))
@example(door="GET /calendar/{}.ics", token="é")  # compare_digest refuses non-ASCII str: was a 500
@example(door="GET /recruiter/login/{}", token="ｘ")
@example(door="GET /recruiter/outcome/{}/attended/{}", token="ü")
def test_token_paths_never_fail(client, svc, door, token):
    method, path = door.split(" ")
    before = counts(svc)
    assert_answered(client.open(path.format(*[quote(token, safe="")] * path.count("{}")), method=method))
    assert counts(svc) == before


# --- the web chat ----------------------------------------------------------------------------------------------

@pytest.fixture
def chat(client, svc):
    chat = Chat(client, svc)
    chat.apply(channel="sms")  # no Twilio here: the candidate talks in the web chat
    return chat


SAID = st.sampled_from(["1", "はい", "キャンセル", "STOP", "明日", "12/24 14:00", "help", "担当者と話したい", "2"])
WORDS = mostly(SAID, TEXT)
TAPS = st.sampled_from(["book", "cancel", "cancel:yes", "keep", "confirm", "other", "help", "date:2026-12-01",
                        "date:2026-02-30", "slot:sato@20261201T0100Z", "slot:x@y"]) | TEXT
SAY = st.one_of(
    st.fixed_dictionaries({"text": WORDS}), st.fixed_dictionaries({"postback": TAPS}, optional={"label": TEXT}),
    st.fixed_dictionaries({}, optional={"text": either(WORDS), "postback": either(TAPS), "label": either(TEXT),
                                        "id": either(st.sampled_from(["m1", "m2"]) | TEXT)}))


@FUZZ
@given(body=mostly(SAY, JSON), path=st.sampled_from(["mine", "mine", "mine", "other"]))
@example(body={"text": "\ud800"}, path="mine")
@example(body={"postback": "slot:\udc00", "label": "\ud800"}, path="mine")
@example(body={"text": "1", "id": "\udfff"}, path="mine")
@example(body={"text": "1", "postback": ["book"]}, path="mine")  # was a 500: a list taken for a postback
def test_web_chat_never_fails_and_never_half_writes(client, svc, chat, body, path):
    token = chat.token if path == "mine" else "no-such-token"
    before = counts(svc)
    res = client.post(f"/chat/{token}/say", data=_body(body), content_type="application/json")
    assert_answered(res)
    if res.status_code != 202:
        assert counts(svc) == before
    assert_answered(client.get(f"/chat/{token}/messages?after={body if isinstance(body, int) else 0}"))
    assert_whole(svc)


# --- the LINE webhook ------------------------------------------------------------------------------------------

USERS = st.sampled_from(["U" + "1" * 32, "U" + "2" * 32, "U" + "a" * 32]) | TEXT
LINE_EVENT = st.fixed_dictionaries({
    "type": either(st.sampled_from(["message", "postback", "follow", "unfollow", "join", "leave", "unsend",
                                    "accountLink", "memberJoined", "videoPlayComplete", "beacon"])),
    "timestamp": either(st.sampled_from([1_796_000_000_000, 0, -1, 1e20, 2**63]) | NUMBERS, 2),
    "source": either(st.fixed_dictionaries({"type": either(st.sampled_from(["user", "group", "room"])),
                                            "userId": either(USERS)})),
    "webhookEventId": either(st.text(string.ascii_uppercase + string.digits, min_size=26, max_size=26) | TEXT),
}, optional={
    "mode": either(st.sampled_from(["active", "standby"])),
    "replyToken": either(st.text(string.hexdigits, min_size=32, max_size=32)),
    "deliveryContext": either(st.fixed_dictionaries({"isRedelivery": either(st.booleans())})),
    "message": either(st.fixed_dictionaries({
        "type": either(st.sampled_from(["text", "sticker", "image", "video", "audio", "file", "location"])),
        "id": either(st.text(string.digits, min_size=1, max_size=18))},
        optional={"text": either(st.sampled_from(["応募したい", "ABC234", "1", "STOP", "担当者"]) | TEXT),
                  "quoteToken": either(TEXT)})),
    "postback": either(st.fixed_dictionaries({"data": either(st.sampled_from(["book", "menu:human", "slot:x"])
                                                             | TEXT)},
                                             optional={"params": either(st.dictionaries(TEXT, TEXT, max_size=2))})),
})
WEBHOOK = st.fixed_dictionaries({"destination": st.just("U" + "0" * 32),
                                 "events": st.lists(either(LINE_EVENT, 12), min_size=1, max_size=3)})
LINE_BODY = mostly(WEBHOOK, st.fixed_dictionaries({"destination": JSON, "events": JSON}) | JSON, 6)


@pytest.fixture
def line_web(line_svc):
    return create_app({"TESTING": True}, services=line_svc).test_client()


def post_line(client, svc, body) -> None:
    from bot.service import inbox
    from tests.fakes.line_api import sign

    raw = json.dumps(body)
    res = client.post("/webhooks/line", data=raw.encode(), content_type="application/json; charset=utf-8",
                      headers={"X-Line-Signature": sign(LINE_SECRET, raw)})
    assert_answered(res)
    assert "signature" not in res.get_data(as_text=True), "signed as LINE signs, so it must reach the parser"
    while inbox.run_once(svc, "fuzz"):  # what the web process runs right after its answer
        pass
    with Session(svc.engine) as s:
        broken = s.exec(select(InboxItem.id, InboxItem.last_error).where(InboxItem.last_error.is_not(None))).all()
    assert broken == [], f"LINE events that failed when carried out: {broken}"
    assert_whole(svc)


LONG_ID = {"destination": "U" + "0" * 32, "events": [{
    "type": "message", "timestamp": 1_796_000_000_000, "source": {"type": "user", "userId": "U" + "1" * 32},
    "webhookEventId": "E" * 300, "message": {"type": "text", "id": "1", "text": "\ud800"}}]}
ODD_USER = {"destination": "U" + "0" * 32, "events": [{
    "type": "follow", "timestamp": 1e20, "source": {"type": "user", "userId": "U" + "x" * 400},
    "webhookEventId": "01ABC\x00", "replyToken": "r" * 32}]}


@settings(FUZZ, max_examples=120)
@given(body=LINE_BODY)
@example(body=LONG_ID)
@example(body=ODD_USER)
def test_line_webhook_never_fails_and_never_half_writes(line_web, line_svc, body):
    post_line(line_web, line_svc, body)


@pytest.fixture
def pg_line(pg_url, clock, fake_line):
    from bot.channels.line.adapter import LineChannel

    env = {"LINE_CHANNEL_SECRET": LINE_SECRET, "LINE_CHANNEL_ACCESS_TOKEN": fake_line.token,
           "LINE_API_BASE_URL": fake_line.origin}
    services = make_services(pg_url, clock, env=env)
    services.channels["line"] = LineChannel(services.config, clock=clock)
    yield services
    services.engine.dispose()


@pytest.mark.postgres
@settings(FUZZ, max_examples=30)
@given(body=LINE_BODY)
@example(body=LONG_ID)
@example(body=ODD_USER)
def test_line_webhook_on_postgresql(pg_line, body):
    """PostgreSQL holds each column to its length and refuses NUL and half surrogate pairs in text."""
    post_line(create_app({"TESTING": True}, services=pg_line).test_client(), pg_line, body)


# --- the Twilio webhooks ---------------------------------------------------------------------------------------

TWILIO_KEYS = ["MessageSid", "SmsSid", "AccountSid", "From", "To", "Body", "NumMedia", "OptOutType", "MediaUrl0",
               "MediaContentType0", "MessageStatus", "SmsStatus", "ErrorCode", "FromCountry", "NumSegments"]
SMS_FORM = st.fixed_dictionaries({
    "MessageSid": st.text(string.hexdigits, min_size=32, max_size=32).map(lambda h: "SM" + h) | FORM_TEXT,
    "From": st.sampled_from(["+819012345678", "+819099999999", "090-1234-5678", ""]) | FORM_TEXT,
}, optional={
    "To": st.sampled_from(["+815012345678"]) | FORM_TEXT,
    "Body": st.sampled_from(["1", "STOP", "START", "HELP", "配信停止", "キャンセル", "明日"]) | FORM_TEXT,
    "NumMedia": st.sampled_from(["0", "1", "9999999999999999999", "-1"]) | FORM_TEXT,
    "OptOutType": st.sampled_from(["STOP", "START", "HELP"]) | FORM_TEXT,
    "MediaUrl0": FORM_TEXT, "AccountSid": FORM_TEXT,
    "MessageStatus": st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read"]) | FORM_TEXT,
    "ErrorCode": st.sampled_from(["30003", "30006", "21610", "30007"]) | FORM_TEXT,
}).flatmap(lambda form: st.dictionaries(st.sampled_from(TWILIO_KEYS) | FORM_TEXT, FORM_TEXT, max_size=3)
           .map(lambda extra: {**extra, **form}))
STATUS_FORM = st.fixed_dictionaries({
    "MessageSid": st.text(string.hexdigits, min_size=32, max_size=32).map(lambda h: "SM" + h) | FORM_TEXT,
    "MessageStatus": st.sampled_from(["queued", "sent", "delivered", "undelivered", "failed", "read"]) | FORM_TEXT,
}, optional={"ErrorCode": st.sampled_from(["30003", "30006", "21610", "30007", "0", "-1"]) | FORM_TEXT,
             "To": st.sampled_from(["+819012345678"]) | FORM_TEXT, "From": FORM_TEXT, "SmsStatus": FORM_TEXT})
ROW = st.none() | st.integers(min_value=-5, max_value=50).map(str) | FORM_TEXT


@pytest.fixture
def phone(sms_client, sms_svc, fake_twilio):
    from tests.channels.sms.drivers import Phone

    phone = Phone(sms_client, sms_svc, fake_twilio)
    phone.apply()
    phone.inbox()  # the greeting went out: its provider id is known, so reports can name it
    return phone


def _signed_post(phone, path: str, form: dict):
    from twilio.request_validator import RequestValidator

    url = phone.svc.config.public_base_url + path
    headers = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}
    res = phone.client.post(path, data=form, headers=headers)
    assert res.status_code != 403, "signed as Twilio signs, so it must reach the handler"
    return res


@FUZZ
@given(form=SMS_FORM)
@example(form={"MessageSid": "SM" + "0" * 32, "From": "+819012345678", "Body": "1\x00", "NumMedia": "1e400"})
def test_twilio_sms_webhook_never_fails_and_never_half_writes(phone, form):
    assert_answered(_signed_post(phone, "/webhooks/twilio/sms", form))
    assert_whole(phone.svc)


@FUZZ
@given(form=mostly(STATUS_FORM, SMS_FORM), row=ROW, known=st.booleans())
@example(form={"MessageSid": "SM", "From": "", "MessageStatus": "undelivered", "ErrorCode": "9" * 30}, row="1",
         known=True)
def test_twilio_status_webhook_never_fails_and_never_half_writes(phone, form, row, known):
    if known:  # a report about a message we really sent
        form = {**form, "MessageSid": phone.fake.created[0].sid}
    path = "/webhooks/twilio/status" + (f"?row={quote(row, safe='')}" if row is not None else "")
    assert_answered(_signed_post(phone, path, form))
    assert_whole(phone.svc)
