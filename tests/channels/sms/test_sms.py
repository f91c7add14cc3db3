"""The SMS conversation end to end: real twilio client → fake Twilio API; signed inbound webhooks."""
from __future__ import annotations

from sqlmodel import Session, select

from bot.channels.sms.text import SEGMENT_BUDGET, segments
from bot.db.models import InboundEvent, MessageLog, Outbox
from tests.conftest import stored_applicant as _applicant
from tests.conftest import stored_bookings as _bookings
from tests.conftest import stored_outbox as _rows


def test_whole_sms_flow_apply_greet_book_confirm_reschedule_cancel(phone, sms_svc, fake_twilio):
    phone.apply(phone="090-1234-5678")
    greeting, content = phone.inbox()
    assert greeting.to == "+819012345678" and greeting.form["From"] == "+815012345678"
    row = _rows(sms_svc, phone.id, kind="greeting")[0]  # the callback names the row, in case our send hears no answer
    assert greeting.form["StatusCallback"] == f"https://jobs.example.com/webhooks/twilio/status?row={row.id}"
    assert "山田 花子さん" in greeting.body and "1) " in greeting.body and "3) " in greeting.body
    assert "0) 他の日" in greeting.body
    assert "https://jobs.example.com/r/" in content.body and "03-6820-1234" in content.body
    assert fake_twilio.created[0].account == "AC" + "0" * 32

    assert phone.text("1").get_data(as_text=True).endswith("<Response />")  # answers come via the outbox
    (booked,) = phone.inbox()
    assert "確定" in booked.body and "「キャンセル」" in booked.body
    assert [b.status for b in _bookings(sms_svc, phone.id)] == ["booked"]

    phone.text("はい")
    (confirmed,) = phone.inbox()
    assert "お会いできるのを楽しみに" in confirmed.body and _applicant(sms_svc, phone.id).state == "confirmed"

    phone.text("変更")
    (offer,) = phone.inbox()
    assert "今の予約" in offer.body and "1) " in offer.body
    phone.text("2")
    (rebooked,) = phone.inbox()
    assert "確定" in rebooked.body
    assert [b.status for b in _bookings(sms_svc, phone.id)] == ["cancelled", "booked"]

    phone.text("キャンセル")
    (question,) = phone.inbox()
    assert "本当にキャンセル" in question.body and "「はい」" in question.body
    assert [b.status for b in _bookings(sms_svc, phone.id)] == ["cancelled", "booked"]
    phone.text("はい")
    (cancelled,) = phone.inbox()
    assert "キャンセルを承りました" in cancelled.body
    assert [b.status for b in _bookings(sms_svc, phone.id)] == ["cancelled", "cancelled"]
    assert _applicant(sms_svc, phone.id).state == "cancelled"

    for sms in fake_twilio.created:  # every message within the budget (figures printed by Phone.inbox)
        assert segments(sms.body) <= SEGMENT_BUDGET, sms.body
    with Session(sms_svc.engine) as s:
        sent = s.exec(select(Outbox).where(Outbox.channel == "sms", Outbox.status == "sent")).all()
        assert all(row.provider_message_id.startswith("SM") for row in sent)
        assert {row.payload["segments"] for row in sent} <= {1, 2}


def test_english_sms_cancels_with_cancel_interview_not_the_carrier_word(phone, sms_svc):
    phone.apply(locale="en", name="Hanako Yamada")
    greeting, _ = phone.inbox()
    assert greeting.body.startswith("Hi Hanako Yamada") and segments(greeting.body) <= SEGMENT_BUDGET
    phone.text("1")
    (booked,) = phone.inbox()
    assert '"cancel interview"' in booked.body
    phone.text("help")
    (help_text,) = phone.inbox()
    assert "cancel interview" in help_text.body and segments(help_text.body) <= SEGMENT_BUDGET
    phone.text("Cancel Interview")
    (question,) = phone.inbox()
    assert "really want to cancel" in question.body and '"yes"' in question.body
    phone.text("yes")
    (cancelled,) = phone.inbox()
    assert "cancelled" in cancelled.body and not _applicant(sms_svc, phone.id).opted_out


def test_full_width_digits_and_ban_pick_a_slot(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("２番")
    (booked,) = phone.inbox()
    assert "確定" in booked.body
    offered = _applicant(sms_svc, phone.id).offered
    assert offered == [] and len(_bookings(sms_svc, phone.id)) == 1
    phone.text("変更")
    phone.inbox()
    phone.text("１")
    assert "確定" in phone.inbox()[0].body


def test_other_dates_numbers_the_days_and_a_number_then_picks_that_day(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("0")
    (menu,) = phone.inbox()
    assert "12/3" in menu.body and "\n1) 11/30(月)\n2) 12/1(火)\n" in menu.body  # a number or a day like 12/3
    phone.text("2")
    (offer,) = phone.inbox()
    times = [line for line in offer.body.splitlines() if line[:1].isdigit() and not line.startswith("0)")]
    assert times and all(") 12/1(火)" in line for line in times)  # that day's times, nothing booked
    assert _applicant(sms_svc, phone.id).state == "greeted" and not _rows(sms_svc, phone.id, kind="booked")


def test_stop_opts_out_at_once_and_start_opts_back_in(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("STOP")
    assert phone.inbox() == []  # Twilio sends its own confirmation; ours would be refused (21610)
    applicant = _applicant(sms_svc, phone.id)
    assert applicant.opted_out and applicant.state == "opted_out"
    (ack,) = _rows(sms_svc, phone.id, kind="stopped")
    assert ack.status == "cancelled" and "Twilio confirmed" in ack.last_error
    assert [r.payload["reason"] for r in _rows(sms_svc, phone.id, channel="recruiter")] == ["opted_out"]

    phone.text("1")  # anything else while opted out: silence
    assert phone.inbox() == []
    phone.text("start")
    (welcome,) = phone.inbox()
    assert "おかえりなさい" in welcome.body and "1) " in welcome.body
    assert not _applicant(sms_svc, phone.id).opted_out


def test_every_carrier_word_is_an_opt_out_but_only_as_the_whole_message(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("please cancel")  # not exact: a person reads it
    assert _applicant(sms_svc, phone.id).state == "needs_human"
    for word in ("cancel", "Revoke", "OPTOUT", "end"):
        phone.text(word)
        assert _applicant(sms_svc, phone.id).opted_out, word
        phone.text("YES")  # Twilio's opt-in word
        assert not _applicant(sms_svc, phone.id).opted_out, word


def test_advanced_opt_out_type_wins_over_the_words(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("やめて", OptOutType="STOP")  # a custom keyword the Messaging Service matched
    assert _applicant(sms_svc, phone.id).opted_out
    phone.text("もう一度", OptOutType="START")
    assert not _applicant(sms_svc, phone.id).opted_out


def test_japanese_stop_word_is_ours_so_we_confirm_it_ourselves(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("配信停止")
    (ack,) = phone.inbox()
    assert "配信を停止しました" in ack.body and _applicant(sms_svc, phone.id).opted_out


def test_forged_signature_is_refused_and_nothing_is_stored(phone, sms_svc):
    phone.apply()
    phone.inbox()
    form = {"MessageSid": "SM" + "f" * 32, "From": phone.number, "To": "+815012345678", "Body": "1"}
    assert phone.post("/webhooks/twilio/sms", form, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=").status_code == 403
    assert phone.post("/webhooks/twilio/sms", form, signature="").status_code == 403
    # Signed for the internal URL, not PUBLIC_BASE_URL: the proxy case must use the public one.
    assert phone.post("/webhooks/twilio/sms", form, url="http://localhost/webhooks/twilio/sms").status_code == 403
    forged_body = dict(form, Body="2")
    from twilio.request_validator import RequestValidator

    from tests.channels.sms.drivers import TWILIO_TOKEN

    good = RequestValidator(TWILIO_TOKEN).compute_signature("https://jobs.example.com/webhooks/twilio/sms", form)
    assert phone.post("/webhooks/twilio/sms", forged_body, signature=good).status_code == 403
    shared = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_x,algorithm=HMAC_SHA256"}
    assert phone.post("/webhooks/twilio/sms", form, headers=shared).status_code == 403
    assert phone.post("/webhooks/twilio/status", {"MessageSid": "SMx", "MessageStatus": "failed"},
                      signature="bad").status_code == 403
    with Session(sms_svc.engine) as s:
        assert s.exec(select(MessageLog).where(MessageLog.direction == "in")).all() == []
        assert s.exec(select(InboundEvent)).all() == []
    assert _applicant(sms_svc, phone.id).state == "greeted"


def test_duplicate_message_sid_is_processed_once(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("1", sid="SM" + "d" * 32)
    phone.text("1", sid="SM" + "d" * 32)  # Twilio retried the webhook
    assert len(phone.inbox()) == 1
    with Session(sms_svc.engine) as s:
        assert len(s.exec(select(MessageLog).where(MessageLog.direction == "in")).all()) == 1
    assert len(_bookings(sms_svc, phone.id)) == 1


def test_unknown_number_gets_one_immediate_twiml_answer(phone, sms_svc, fake_twilio):
    first = phone.text("こんにちは").get_data(as_text=True)
    assert "<Message>" in first and "03-6820-1234" in first
    assert "<Message>" not in phone.text("もしもし").get_data(as_text=True)
    assert "<Message>" not in phone.text("STOP", sid=None).get_data(as_text=True)
    assert fake_twilio.created == []


def test_anything_unclear_goes_to_a_person_with_a_polite_holding_reply(phone, sms_svc):
    phone.apply()
    phone.inbox()
    phone.text("駐車場はありますか？")
    (holding,) = phone.inbox()
    assert "担当者" in holding.body and _applicant(sms_svc, phone.id).state == "needs_human"


def test_short_link_redirects_and_counts_opens(phone, sms_svc, sms_client):
    phone.apply()
    _, content = phone.inbox()
    link = next(w for w in content.body.split() if "/r/" in w)
    path = link.removeprefix("https://jobs.example.com")
    assert sms_client.head(path).status_code == 302  # a link preview: not an open
    res = sms_client.get(path)
    assert res.status_code == 302 and res.headers["Location"] == "https://video.example.com/soyokaze-day"
    sms_client.get(path)
    from bot.db.models import ShortLink

    with Session(sms_svc.engine) as s:
        row = s.exec(select(ShortLink).where(ShortLink.token == path.rsplit("/", 1)[1])).one()
        assert row.opens == 2 and row.applicant_id == phone.id and row.first_opened_at is not None
    assert sms_client.get("/r/nope").status_code == 404
    from tests.recruiters import sign_in

    sign_in(sms_client)
    assert "開封 2" in sms_client.get("/recruiter").get_data(as_text=True)


def test_a_worker_racing_the_webhook_still_sends_no_acknowledgement_after_stop(phone, sms_svc, fake_twilio):
    from bot.core.transport import Outgoing

    phone.apply()
    phone.inbox()
    payload = {"kind": "stopped", "text": "止めました", "reply_to": {"carrier_confirmed": True}}
    assert sms_svc.channels["sms"].send(Outgoing("sms", {"phone": phone.number}, payload, "k")) is None
    assert phone.inbox() == []


def test_undelivered_greeting_falls_back_to_line_when_linked(phone, sms_svc, fake_twilio):
    from tests.conftest import RecordingChannel

    line = sms_svc.channels["line"] = RecordingChannel()
    phone.apply(line_user_id="U" + "a" * 32)
    phone.inbox()
    (greeting,) = _rows(sms_svc, phone.id, kind="greeting", channel="sms")
    phone.report(greeting.provider_message_id, "failed", "30008")
    phone.inbox()
    (sent,) = line.sent
    assert sent.channel == "line" and sent.payload["kind"] == "greeting" and "sms" not in sent.payload
    (fallback,) = _rows(sms_svc, phone.id, fallback_for=greeting.id)
    assert fallback.status == "sent"


def test_only_links_that_made_it_into_a_message_are_stored(phone, sms_svc):
    import re

    from bot.db.models import ShortLink

    phone.apply()
    shown = {m for sms in phone.inbox() for m in re.findall(r"/r/([\w-]+)", sms.body)}
    with Session(sms_svc.engine) as s:
        stored = {link.token for link in s.exec(select(ShortLink)).all()}
    assert stored == shown and len(shown) == 2  # the third content link did not fit the budget


def test_no_name_number_or_text_reaches_the_log(phone, sms_svc, fake_twilio, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    fake_twilio.failures.append((400, 21211, "The 'To' number +819012345678 is not a valid phone number."))
    phone.apply()
    phone.inbox()
    phone.text("1")
    phone.text("駐車場はありますか？")
    phone.inbox()
    logged = caplog.text
    assert logged  # something was logged ...
    for secret in ("+819012345678", "9012345678", "山田", "花子", "駐車場", "test-twilio-auth-token"):
        assert secret not in logged, secret  # ... but nothing personal


def test_help_keyword_answers_with_our_help_that_names_cancel_interview(phone, sms_svc):
    phone.apply(locale="en", name="Hanako Yamada")
    phone.inbox()
    phone.text("INFO", OptOutType="HELP")
    (help_text,) = phone.inbox()
    assert '"cancel interview"' in help_text.body and '"STOP"' in help_text.body
    assert _applicant(sms_svc, phone.id).state == "greeted"


def test_the_twilio_sdk_does_not_log_each_request(phone, caplog):
    import logging

    caplog.set_level(logging.INFO)
    phone.apply()
    assert phone.inbox()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("twilio")] == []
