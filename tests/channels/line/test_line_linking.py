"""Linking a LINE user to a web application by code, and applying inside LINE."""
from sqlmodel import Session, select

from bot.db.models import Applicant, LineLead, Outbox
from tests.conftest import AUTH, application


def _quick(message):
    return [i["action"] for i in message.get("quickReply", {}).get("items", [])]


def test_web_applicant_links_with_the_code_and_is_greeted_at_once(line_user, line_svc, fake_line):
    res = line_user.client.post("/api/applications", headers=AUTH, json=application(channel="line"))
    code, applicant_id = res.get_json()["line_link_code"], res.get_json()["id"]
    assert line_user.inbox() == [] and fake_line.requests == []  # held: we do not know their LINE user yet
    with Session(line_svc.engine) as s:
        held = s.exec(select(Outbox).where(Outbox.kind == "greeting")).one()
        assert held.status == "pending" and "link code" in held.last_error

    line_user.follow()
    [[welcome]] = line_user.inbox()
    assert "6文字のコード" in welcome["text"]
    # Typed on a phone: full-width, lower case, with a space. Still the code.
    line_user.say(" ".join([code[:3].lower(), code[3:]]).translate(str.maketrans("ABCDEFGHJKLMNPQRSTUVWXYZ23456789",
                                                                                "ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＳＴＵＶＷＸＹＺ２３４５６７８９")))
    [[greeting, content, ask]] = line_user.inbox()
    assert "山田 花子さん" in greeting["text"] and content["type"] == "flex" and _quick(ask)
    assert fake_line.calls("/v2/bot/message/reply")[-1].status == 200  # greeted with the free reply
    with Session(line_svc.engine) as s:
        a = s.get(Applicant, applicant_id)
        assert a.line_user_id == line_user.user_id and a.link_code is None and a.state == "greeted"
        assert s.get(Outbox, held.id).status == "cancelled"  # the held first greeting never goes out
        assert s.exec(select(LineLead)).all() == []
    line_svc.clock.advance(hours=1)
    assert line_user.inbox() == []  # nothing else arrives later either


def test_a_wrong_code_gets_a_kind_answer(line_user):
    line_user.follow()
    line_user.inbox()
    line_user.say("ABC234")
    [[answer]] = line_user.inbox()
    assert "コードが見つかりませんでした" in answer["text"]


def test_a_new_friend_applies_inside_line_then_books(line_user, line_svc):
    line_user.follow()
    line_user.inbox()
    line_user.say("鈴木 一郎")
    [[ask_job]] = line_user.inbox()
    jobs = _quick(ask_job)
    assert "鈴木 一郎さん" in ask_job["text"] and [j["data"] for j in jobs] == ["job:bakery-staff", "job:store-manager"]
    assert all(len(j["label"]) <= 20 for j in jobs)
    line_user.tap("job:no-such-job")  # forged: the choices come again
    [[again]] = line_user.inbox()
    assert [j["data"] for j in _quick(again)] == ["job:bakery-staff", "job:store-manager"]
    line_user.tap("job:store-manager")
    [[ask_phone]] = line_user.inbox()
    assert _quick(ask_phone) == [{"type": "postback", "label": "スキップ", "data": "skip", "displayText": "スキップ"}]
    line_user.say("電話は後で")
    [[bad]] = line_user.inbox()
    assert "読み取れませんでした" in bad["text"]
    line_user.say("０９０－１１１１－２２２２")
    [[greeting, content, ask]] = line_user.inbox()
    assert "鈴木 一郎さん" in greeting["text"] and "店長候補" in greeting["text"]
    with Session(line_svc.engine) as s:
        a = s.exec(select(Applicant)).one()
        assert ((a.channel, a.job_id, a.phone, a.source, a.state)
                == ("line", "store-manager", "+819011112222", "line", "greeted"))
        assert s.exec(select(LineLead)).all() == []
    slot = next(x for x in _quick(ask) if x["type"] == "postback")
    line_user.tap(slot["data"])
    [[card]] = line_user.inbox()
    assert card["type"] == "flex" and "面接のご予約" in str(card["contents"])


def test_phone_can_be_skipped(line_user, line_svc):
    line_user.follow()
    line_user.say("Alex Smith")
    line_user.tap("job:bakery-staff")
    line_user.tap("skip")
    batches = line_user.inbox()
    assert "Alex Smithさん" in batches[-1][0]["text"]
    with Session(line_svc.engine) as s:
        assert s.exec(select(Applicant)).one().phone is None


def test_a_message_from_a_friend_we_never_saw_follow_starts_the_welcome(line_user):
    line_user.say("こんにちは")
    [[welcome]] = line_user.inbox()
    assert "友だち追加ありがとうございます" in welcome["text"]


def test_a_phone_typed_in_line_follows_the_forms_destination_rules(line_user, line_svc):
    """A premium-rate or foreign number typed inside LINE is asked for again, as the form refuses it (issue 13)."""
    line_user.follow()
    line_user.say("鈴木 一郎")
    line_user.tap("job:store-manager")
    line_user.inbox()
    for number in ("+1 900 555 0123", "+44 7700 900123", "0570-000-123"):  # premium, another country, navi-dial
        line_user.say(number)
        [[again]] = line_user.inbox()
        assert "読み取れませんでした" in again["text"]
    with Session(line_svc.engine) as s:
        assert s.exec(select(Applicant)).all() == []
    line_user.say("090-1111-2222")
    line_user.inbox()
    with Session(line_svc.engine) as s:
        assert s.exec(select(Applicant)).one().phone == "+819011112222"
