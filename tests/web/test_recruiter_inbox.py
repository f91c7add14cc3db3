"""The inbox (issue 14): who waits for a person first, replies on the candidate's own channel (LINE, SMS both ways,
e-mail, the sandbox chat), a one-way SMS candidate answering on their page, saved replies, notes that are never
sent, resolving alerts, handing back to the bot, what an interviewer may open, and the audit log of it all."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlmodel import Session, select

from bot.core.vocab import AuditAction, Direction, Role
from bot.db.accounts import AuditEntry
from bot.db.models import Applicant, MessageLog, Outbox
from bot.db.workspace import InboxNote, ResolvedAlert
from bot.service.delivery import run_once
from tests.conftest import AUTH, application
from tests.recruiters import ADMIN, form_token, link_for, sign_in, use_link

QUESTION = "駐車場はありますか？車で伺いたいです。"
RECRUITER = "yamada@example.com"


STAFF = "採用 花子"


def _sign_in(client, name: str = STAFF):
    """Sign in as an admin with a name (the name shown beside their replies and notes)."""
    link = link_for(client.application.extensions["sokuresu"], ADMIN, Role.ADMIN, name)
    assert use_link(client, link).status_code == 303


def _page(client, path: str, status: int = 200) -> str:
    res = client.get(path)
    assert res.status_code == status, (res.status_code, res.get_data(as_text=True)[:300])
    return res.get_data(as_text=True)


def _post(client, path: str, status: int = 303, **form):
    page = _page(client, "/recruiter/inbox")
    res = client.post(path, data={"csrf": form_token(page), **form})
    assert res.status_code == status, (res.status_code, res.get_data(as_text=True)[:500])
    return res


def _deliver(svc) -> None:
    while run_once(svc, "test-worker"):
        pass


def _log(svc, applicant_id: int) -> list[MessageLog]:
    with Session(svc.engine) as s:
        return s.exec(select(MessageLog).where(MessageLog.applicant_id == applicant_id).order_by(MessageLog.id)).all()


def _audit(svc) -> list[tuple[str, int | None]]:
    with Session(svc.engine) as s:
        return [(e.action, e.applicant_id) for e in s.exec(select(AuditEntry).order_by(AuditEntry.id)).all()]


def _waiting_ids(page: str) -> list[int]:
    block = page.split('id="waiting"', 1)[1].split("</ul>", 1)[0]
    return [int(x) for x in re.findall(r'data-id="(\d+)"', block)]


@pytest.fixture
def asking(chat, client):
    """A sandbox candidate who asked something the bot cannot answer: a person is needed."""
    chat.apply(name="佐藤 一郎")
    chat.replies()
    chat.say(QUESTION)
    assert chat.state() == "needs_human"
    chat.replies()  # the bot's word that a person will answer
    _sign_in(client)
    return chat


def test_a_candidate_waiting_for_a_person_comes_first_with_their_question_and_wait(asking, client, clock):
    clock.advance(minutes=12)
    page = _page(client, "/recruiter/inbox")
    assert _waiting_ids(page) == [asking.id]
    assert QUESTION in page and "12分待ち" in page and "ボットが理解できないメッセージ" in page
    view = _page(client, f"/recruiter/inbox/{asking.id}")
    assert 'id="reply-form"' in view and 'id="hand-back"' in view and "佐藤 一郎" in view


def test_a_reply_reaches_the_sandbox_chat_with_the_senders_name_and_is_audited(asking, client, svc):
    _post(client, f"/recruiter/inbox/{asking.id}/reply", text="駐車場はございます。お気をつけてお越しください。")
    assert [m["text"] for m in asking.replies()] == ["駐車場はございます。お気をつけてお越しください。"]
    [staff] = [m for m in _log(svc, asking.id) if m.payload.get("staff")]
    assert staff.direction == Direction.OUT and staff.payload["staff"]["name"] == STAFF
    view = _page(client, f"/recruiter/inbox/{asking.id}")
    assert re.search(r'class="who">採用 花子</span>\s*</span>\s*<div class="bubble">駐車場はございます', view)
    assert (AuditAction.REPLY, asking.id) in _audit(svc)


def test_an_empty_reply_is_refused_and_nothing_is_queued(asking, client, svc):
    res = _post(client, f"/recruiter/inbox/{asking.id}/reply", status=400, text="   ")
    assert "入力してください" in res.get_data(as_text=True)
    assert not [r for r in _outbox(svc, asking.id) if r.payload.get("staff")]


def _outbox(svc, applicant_id):
    with Session(svc.engine) as s:
        return s.exec(select(Outbox).where(Outbox.applicant_id == applicant_id)).all()


def test_a_note_is_kept_for_colleagues_and_never_sent(asking, client, svc):
    before = len(_outbox(svc, asking.id))
    _post(client, f"/recruiter/inbox/{asking.id}/note", text="車通勤の可否を店長に確認中")
    assert len(_outbox(svc, asking.id)) == before  # nothing goes out
    assert asking.replies() == []
    assert all("車通勤" not in m.text for m in _log(svc, asking.id))
    with Session(svc.engine) as s:
        [note] = s.exec(select(InboxNote)).all()
    assert note.author == STAFF and note.applicant_id == asking.id
    assert "車通勤の可否を店長に確認中" in _page(client, f"/recruiter/inbox/{asking.id}")
    assert (AuditAction.NOTE, asking.id) in _audit(svc)


def test_resolving_an_alert_clears_it_and_handing_back_ends_the_wait(asking, client, svc):
    view = _page(client, f"/recruiter/inbox/{asking.id}")
    alert_id = int(re.search(r'name="alert" value="(\d+)"', view).group(1))
    _post(client, f"/recruiter/inbox/{asking.id}/resolve", alert=str(alert_id))
    with Session(svc.engine) as s:
        assert [r.outbox_id for r in s.exec(select(ResolvedAlert)).all()] == [alert_id]
    assert 'name="alert"' not in _page(client, f"/recruiter/inbox/{asking.id}")
    assert _waiting_ids(_page(client, "/recruiter/inbox")) == [asking.id]  # the hand-off is still open

    _post(client, f"/recruiter/inbox/{asking.id}/hand-back")
    with Session(svc.engine) as s:
        a = s.get(Applicant, asking.id)
    assert a.state != "needs_human" and not a.handoff_open
    assert _waiting_ids(_page(client, "/recruiter/inbox")) == []
    actions = _audit(svc)
    assert (AuditAction.RESOLVE, asking.id) in actions and (AuditAction.RESUME, asking.id) in actions


def test_the_stamp_changes_when_the_candidate_writes_again(asking, client):
    first = client.get(f"/recruiter/inbox/stamp?a={asking.id}").get_json()
    assert first["waiting"] == 1
    assert client.get(f"/recruiter/inbox/stamp?a={asking.id}").get_json() == first
    asking.say("もうひとつ質問があります")
    assert client.get(f"/recruiter/inbox/stamp?a={asking.id}").get_json()["stamp"] != first["stamp"]
    assert "もうひとつ質問があります" in _page(client, f"/recruiter/inbox/{asking.id}")


def test_candidate_text_is_escaped_in_the_inbox(chat, client):
    chat.apply(name="<b>太郎</b>")
    chat.say('<script>alert("x")</script>')
    sign_in(client)
    for path in ("/recruiter/inbox", f"/recruiter/inbox/{chat.id}"):
        page = _page(client, path)
        assert "<script>alert" not in page and "<b>太郎" not in page and "&lt;b&gt;太郎" in page


def test_saved_replies_fill_in_name_and_interview(chat, client, svc):
    chat.apply(name="鈴木 花")
    chat.replies()
    chat.say("1")  # books the first time offered
    assert chat.state() == "booked"
    sign_in(client)
    page = _page(client, f"/recruiter/inbox/{chat.id}?use=1")  # 面接日時のご案内
    draft = page.split('id="reply-text"', 1)[1].split("</textarea>", 1)[0]
    assert "鈴木 花様" in draft and "{interview}" not in draft and re.search(r"\d+月\d+日", draft)
    assert "ソヨカゼ" in draft or "{company}" not in draft
    assert 'data-insert="鈴木 花様' in page  # the same text for the button that inserts it without a reload


def test_admins_edit_the_saved_replies_and_a_field_nobody_fills_is_refused(client, svc):
    sign_in(client)
    page = _page(client, "/recruiter/saved-replies")
    assert "受付のお礼" in page
    bad = client.post("/recruiter/saved-replies", data={"csrf": form_token(page), "title": ["お礼"],
                                                         "body": ["{名前}様 ありがとうございます"]})
    assert bad.status_code == 400 and "使えない差し込み項目" in bad.get_data(as_text=True)
    good = client.post("/recruiter/saved-replies", data={"csrf": form_token(page), "title": ["お礼", "空"],
                                                          "body": ["{name}様、ありがとうございます。", ""]})
    assert good.status_code == 200 and "保存しました" in good.get_data(as_text=True)
    assert "受付のお礼" not in _page(client, "/recruiter/saved-replies")
    assert (AuditAction.SAVED_REPLIES, None) in _audit(svc)


def test_saved_replies_are_for_admins_only(client, svc):
    sign_in(client, email=RECRUITER, role=Role.RECRUITER)
    assert client.get("/recruiter/saved-replies").status_code == 403


def test_an_interviewer_gets_404_for_someone_elses_candidate(asking, client, svc):
    other = client.application.test_client()
    sign_in(other, email="sato@example.com", role=Role.INTERVIEWER)
    for path in (f"/recruiter/inbox/{asking.id}", f"/recruiter/inbox/stamp?a={asking.id}"):
        assert other.get(path).status_code == 404
    page = _page(other, "/recruiter/inbox")
    assert "佐藤 一郎" not in page
    res = other.post(f"/recruiter/inbox/{asking.id}/reply", data={"csrf": form_token(page), "text": "x"})
    assert res.status_code == 404
    assert AuditAction.REPLY not in [a for a, _ in _audit(svc)]


# --- On the candidate's own channel ---------------------------------------------------------------------------

def test_a_reply_on_line_reaches_the_candidate_as_a_push_and_the_count_shows(line_user, line_svc, line_client):
    res = line_client.post("/api/applications", headers=AUTH,
                           json=application(channel="line", line_user_id=line_user.user_id, name="LINE 太郎"))
    applicant_id = res.get_json()["id"]
    line_user.inbox()
    line_user.say(QUESTION)
    line_user.inbox()
    sign_in(line_client)
    view = _page(line_client, f"/recruiter/inbox/{applicant_id}")
    assert "今月のLINEプッシュ送信数: 1通" in view  # the greeting
    _post(line_client, f"/recruiter/inbox/{applicant_id}/reply", text="LINE 太郎様、駐車場はございます。")
    [batch] = line_user.inbox()
    assert batch == [{"type": "text", "text": "LINE 太郎様、駐車場はございます。"}] or \
        batch[0]["text"] == "LINE 太郎様、駐車場はございます。"
    assert "今月のLINEプッシュ送信数: 2通" in _page(line_client, f"/recruiter/inbox/{applicant_id}")


def test_a_reply_by_two_way_sms_is_the_text_as_written(phone, sms_client, sms_svc):
    applicant_id = phone.apply(name="SMS 花子")
    phone.inbox()
    phone.text(QUESTION)
    phone.inbox()  # the bot's word that a person will answer
    sign_in(sms_client)
    text = "SMS 花子様、駐車場はございます。" + "当日はお気をつけてお越しくださいませ。" * 6  # longer than one segment
    _post(sms_client, f"/recruiter/inbox/{applicant_id}/reply", text=text)
    [sms] = phone.inbox()
    assert sms.body == text  # never cut to the bot's segment budget, no link: they can answer by SMS


@pytest.mark.parametrize("sms_mode", ["auto"])  # Japan: one-way
def test_a_one_way_sms_reply_links_to_the_page_where_the_candidate_answers(phone, sms_client, sms_svc, sms_mode):
    applicant_id = phone.apply(name="一方向 次郎")
    phone.inbox()
    sign_in(sms_client)
    view = _page(sms_client, f"/recruiter/inbox/{applicant_id}")
    assert "ご本人のページへのリンクを添えます" in view
    asked = "一方向 次郎様、面接の前に一度お電話してもよろしいでしょうか。"
    _post(sms_client, f"/recruiter/inbox/{applicant_id}/reply", text=asked)
    [sms] = phone.inbox()
    assert sms.body.startswith(asked + "\nご返信は、こちらのページから")
    short = re.search(r"https://jobs\.example\.com/r/\S+", sms.body).group(0)
    page_url = sms_client.get(urlsplit(short).path).headers["Location"]
    assert "/c/" in page_url and page_url.endswith("#write")

    candidate = sms_client.application.test_client()  # the candidate's own browser, not signed in
    path = urlsplit(page_url).path
    page = _page(candidate, path)
    assert "一方向 次郎様、面接の前に一度お電話" in page and 'id="write-text"' in page
    res = candidate.post(path + "/write", data={"csrf": form_token(page), "text": "はい、平日18時以降でお願いします。"})
    assert res.status_code == 303 and "done=written" in res.headers["Location"]
    back = urlsplit(res.headers["Location"])
    assert "担当者が確認してお返事いたします" in _page(candidate, f"{back.path}?{back.query}")
    assert phone.inbox() == []  # nothing sent back by SMS for it

    inbox = _page(sms_client, "/recruiter/inbox")
    assert applicant_id in _waiting_ids(inbox) and "はい、平日18時以降でお願いします。" in inbox
    assert "ご本人のページから" in _page(sms_client, f"/recruiter/inbox/{applicant_id}")
    with Session(sms_svc.engine) as s:
        assert s.get(Applicant, applicant_id).state == "needs_human"


@pytest.mark.parametrize("sms_mode", ["auto"])
def test_the_page_form_is_rate_limited_and_needs_its_token(phone, sms_client, sms_svc, sms_mode):
    applicant_id = phone.apply()
    from bot.core.vocab import KeyPurpose
    from bot.service.candidate_page import page_url

    with Session(sms_svc.engine) as s:
        token = s.get(Applicant, applicant_id).token
    path = urlsplit(page_url(sms_svc.keys.current(KeyPurpose.LINKS), "", token)).path
    page = _page(sms_client, path)
    assert sms_client.post(path + "/write", data={"text": "x"}).status_code in (400, 403)
    for i in range(5):
        res = sms_client.post(path + "/write", data={"csrf": form_token(page), "text": f"質問 {i}"})
        assert "done=written" in res.headers["Location"]
    res = sms_client.post(path + "/write", data={"csrf": form_token(page), "text": "6通目"})
    assert "write=write_wait" in res.headers["Location"]
    assert "少し時間をおいて" in _page(sms_client, urlsplit(res.headers["Location"]).path + "?write=write_wait")
    assert [m.text for m in _log(sms_svc, applicant_id) if m.payload.get("via") == "page"] == \
        [f"質問 {i}" for i in range(5)]


def test_a_reply_by_e_mail_points_to_the_page_to_answer(sms_client, sms_svc, smtp_server):
    res = sms_client.post("/api/applications", headers=AUTH, json=application(channel="email", name="メール 三郎"))
    applicant_id = res.get_json()["id"]
    _deliver(sms_svc)
    sign_in(sms_client)
    _post(sms_client, f"/recruiter/inbox/{applicant_id}/reply", text="メール 三郎様、ご返信をお待ちしております。")
    _deliver(sms_svc)
    mail = smtp_server.mails[-1]
    text = mail.get_body(("plain",)).get_content()
    assert "メール 三郎様、ご返信をお待ちしております。" in text  # a person's words are not trimmed
    assert "こちらのページからお願いいたします" in text and "#write" in text
    assert "採用担当からのご連絡" in str(mail["Subject"])


def test_a_reply_right_after_the_candidates_message_goes_as_lines_free_reply(line_user, line_svc, line_client,
                                                                              fake_line, clock):
    res = line_client.post("/api/applications", headers=AUTH,
                           json=application(channel="line", line_user_id=line_user.user_id, name="LINE 次郎"))
    applicant_id = res.get_json()["id"]
    line_user.say(QUESTION)  # the bot answers this one (its token is spent): a person will reply
    line_user.inbox()
    clock.advance(minutes=5)
    line_user.say("よろしくお願いします")  # while a person has the conversation the bot stays quiet: token unused
    line_user.inbox()
    replies_before = len(fake_line.calls("/v2/bot/message/reply"))
    sign_in(line_client)
    assert "無料で送れる可能性があります" in _page(line_client, f"/recruiter/inbox/{applicant_id}")
    _post(line_client, f"/recruiter/inbox/{applicant_id}/reply", text="LINE 次郎様、承知いたしました。")
    [batch] = line_user.inbox()
    assert batch[0]["text"] == "LINE 次郎様、承知いたしました。"
    assert len(fake_line.calls("/v2/bot/message/reply")) == replies_before + 1
    with Session(line_svc.engine) as s:
        row = s.exec(select(Outbox).where(Outbox.applicant_id == applicant_id, Outbox.kind == "message")).one()
    assert row.delivery_mode == "reply"

    clock.advance(minutes=2)  # later on, the token is stale: a push
    _post(line_client, f"/recruiter/inbox/{applicant_id}/reply", text="もう一点ご連絡です。")
    line_user.inbox()
    with Session(line_svc.engine) as s:
        modes = [r.delivery_mode for r in s.exec(select(Outbox).where(Outbox.applicant_id == applicant_id,
                                                                      Outbox.kind == "message")).all()]
    assert modes == ["reply", "push"]


def test_erasing_a_person_takes_their_notes_and_resolved_alerts_along(asking, client, svc):
    from bot.service.erasure import erase

    _post(client, f"/recruiter/inbox/{asking.id}/note", text="電話で確認済み")
    _post(client, f"/recruiter/inbox/{asking.id}/resolve")
    assert erase(svc, asking.id, by=None, via="cli") is not None
    with Session(svc.engine) as s:
        assert s.exec(select(InboxNote)).all() == [] and s.exec(select(ResolvedAlert)).all() == []
    assert _waiting_ids(_page(client, "/recruiter/inbox")) == []


@pytest.fixture
def pg(pg_url, clock):
    from bot import create_app
    from tests.conftest import make_services

    services = make_services(pg_url, clock)
    yield services, create_app({"TESTING": True}, services=services).test_client()
    services.engine.dispose()


def test_the_inbox_on_postgresql(pg):
    """The list's grouped reads, the outer join of open alerts and the stamp, on PostgreSQL."""
    from tests.conftest import Chat

    svc, client = pg
    chat = Chat(client, svc)
    chat.apply(name="佐藤 一郎")
    chat.say(QUESTION)
    chat.replies()
    _sign_in(client)
    assert _waiting_ids(_page(client, "/recruiter/inbox")) == [chat.id]
    stamp = client.get(f"/recruiter/inbox/stamp?a={chat.id}").get_json()
    _post(client, f"/recruiter/inbox/{chat.id}/reply", text="駐車場はございます。")
    _post(client, f"/recruiter/inbox/{chat.id}/note", text="確認済み")
    assert [m["text"] for m in chat.replies()] == ["駐車場はございます。"]
    assert client.get(f"/recruiter/inbox/stamp?a={chat.id}").get_json()["stamp"] != stamp["stamp"]
    _post(client, f"/recruiter/inbox/{chat.id}/resolve")
    _post(client, f"/recruiter/inbox/{chat.id}/hand-back")
    page = _page(client, "/recruiter/inbox")
    assert _waiting_ids(page) == [] and "駐車場は" in page
    view = _page(client, f"/recruiter/inbox/{chat.id}")
    assert "確認済み" in view and "駐車場はございます。" in view


def _upgrading_counts_past_alerts_as_dealt_with(url: str) -> None:
    from datetime import datetime, timedelta, timezone

    import sqlalchemy as sa

    from bot.db import migrate

    migrate.upgrade(url, "0009")
    engine = sa.create_engine(url)
    outbox = sa.Table("outbox", sa.MetaData(), autoload_with=engine)
    past, later = datetime(2026, 1, 5, tzinfo=timezone.utc), datetime.now(timezone.utc) + timedelta(days=2)

    def row(key: str, channel: str, due, status: str = "sent") -> dict:
        return {"channel": channel, "kind": "alert", "payload": {"reason": "no_slots"}, "due_at": due,
                "status": status, "attempts": 1, "idempotency_key": key, "created_at": past}

    with engine.begin() as conn:
        conn.execute(outbox.insert(), [row("a", "recruiter", past), row("b", "recruiter", later, "pending"),
                                       row("c", "sms", past), row("d", "recruiter", past, "cancelled")])
    engine.dispose()
    migrate.upgrade(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        done = conn.execute(sa.text("SELECT o.idempotency_key FROM resolved_alert r "
                                    "JOIN outbox o ON o.id = r.outbox_id"))
        keys = sorted(k for (k,) in done)
    engine.dispose()
    assert keys == ["a"]  # the old alert; not the one due later, a message, or a cancelled one


def test_upgrading_counts_past_alerts_as_dealt_with_on_sqlite(tmp_path):
    _upgrading_counts_past_alerts_as_dealt_with(f"sqlite:///{tmp_path / 'old.sqlite3'}")


def test_upgrading_counts_past_alerts_as_dealt_with_on_postgres(pg_url):
    _upgrading_counts_past_alerts_as_dealt_with(pg_url)
