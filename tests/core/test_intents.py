"""What a candidate types or taps, turned into conversation events."""
from datetime import date

import pytest

from bot.core.events import (
    Cancel,
    ChooseSlot,
    Confirm,
    Decline,
    Help,
    OtherDates,
    PickDate,
    Reschedule,
    Start,
    Stop,
    Unknown,
    WantSlots,
    Yes,
)
from bot.core.intents import parse_postback, parse_text

TODAY = date(2026, 11, 30)


# --- numbers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, number", [
    ("1", 1), ("１", 1), ("2番", 2), ("３番目", 3), ("10", 10), ("１０", 10), (" 2 ", 2), ("2。", 2), ("2!", 2),
    ("No. 2", 2), ("no2", 2), ("2でお願いします", 2), ("３です", 3), ("3にします", 3), ("2 ban", 2),
])
def test_a_number_half_or_full_width_chooses_that_slot(text, number):
    assert parse_text(text, TODAY, channel="sandbox") == ChooseSlot(number=number)


@pytest.mark.parametrize("text, number", [("2番です", 2), ("2番でお願いします", 2), ("３番目でお願いします", 3),
                                          ("2番にします", 2)])
def test_a_number_with_ban_and_a_polite_ending_chooses_that_slot(text, number):
    assert parse_text(text, TODAY, channel="sandbox") == ChooseSlot(number=number)


@pytest.mark.parametrize("text", ["0", "０", "0番", "他の日", "ほかの日", "別日", "other", "Other Dates", "どれも無理"])
def test_zero_or_other_days_asks_for_other_dates(text):
    assert parse_text(text, TODAY, channel="sandbox") == OtherDates()


@pytest.mark.parametrize("text", ["100", "1.5", "1 2", "#1"])
def test_something_that_is_not_one_small_number_is_not_a_choice(text):
    assert parse_text(text, TODAY, channel="sandbox") == Unknown(text)


# --- dates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, day", [
    ("12/3", date(2026, 12, 3)), ("１２月３日", date(2026, 12, 3)), ("12月3日", date(2026, 12, 3)),
    ("１２／３", date(2026, 12, 3)), ("12-3", date(2026, 12, 3)), ("12月3日(木)", date(2026, 12, 3)),
    ("１２月３日（木）", date(2026, 12, 3)), ("12 / 3", date(2026, 12, 3)),
    ("2027/1/5", date(2027, 1, 5)), ("2027年1月5日", date(2027, 1, 5)), ("2027-01-05", date(2027, 1, 5)),
])
def test_a_date_picks_that_day(text, day):
    assert parse_text(text, TODAY, channel="sandbox") == PickDate(day)


def test_today_without_a_year_is_today():
    assert parse_text("11/30", TODAY, channel="sandbox") == PickDate(date(2026, 11, 30))


@pytest.mark.parametrize("text, today, day", [
    ("11/29", TODAY, date(2027, 11, 29)),
    ("1/5", date(2026, 12, 28), date(2027, 1, 5)),
    ("12/30", date(2026, 12, 28), date(2026, 12, 30)),
])
def test_a_month_and_day_already_past_this_year_means_next_year(text, today, day):
    assert parse_text(text, today, channel="sandbox") == PickDate(day)


def test_a_date_with_its_year_is_taken_as_written():
    assert parse_text("2026/11/1", TODAY, channel="sandbox") == PickDate(date(2026, 11, 1))


@pytest.mark.parametrize("text", ["2/30", "13/1", "12/32", "0/5", "4/31", "2027/2/29", "２月３０日"])
def test_an_impossible_date_is_not_understood(text):
    assert parse_text(text, TODAY, channel="sandbox") == Unknown(text)


# --- opt-out and opt-in: Twilio's words keep Twilio's meaning on SMS only ----------------------

CHANNELS = ["line", "sandbox", "email", "sms"]


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("text", ["STOP", "stop", "Stop", "STOPALL", "UNSUBSCRIBE", "OPTOUT", "  stop  ", "ＳＴＯＰ",
                                  "配信停止", "停止", "ストップ"])
def test_opt_out_words_stop_everything_on_every_channel(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Stop()


@pytest.mark.parametrize("text", ["CANCEL", "cancel", "END", "QUIT", "REVOKE", "Stop", "STOPALL", "UNSUBSCRIBE"])
def test_twilios_opt_out_words_opt_out_on_sms_where_twilio_enforces_them(text):
    assert parse_text(text, TODAY, channel="sms") == Stop()


@pytest.mark.parametrize("channel", ["line", "sandbox", "email"])
@pytest.mark.parametrize("text", ["cancel", "CANCEL", "Cancel", "ｃａｎｃｅｌ"])
def test_cancel_outside_sms_means_the_interview_not_an_opt_out(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Cancel()


@pytest.mark.parametrize("channel", ["line", "sandbox", "email"])
@pytest.mark.parametrize("text", ["end", "quit", "revoke"])
def test_twilios_other_opt_out_words_outside_sms_go_to_a_person(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Unknown(text)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("text", ["stop please", "please stop", "stop all", "end it", "quit now", "cancel please"])
def test_opt_out_words_only_count_as_the_whole_message(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Unknown(text)


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("text", ["START", "start", "UNSTOP", "Unstop", "配信再開", "再開"])
def test_opt_in_words_start_again(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Start()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("text", ["cancel interview", "Cancel Interview", "cancel my interview", "キャンセル",
                                  "面接キャンセル", "予約キャンセル", "辞退", "取り消し"])
def test_cancel_interview_or_kyanseru_cancels_the_interview_on_every_channel(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Cancel()


# --- the other words --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["reschedule", "Change", "change date", "日程変更", "変更", "予約変更", "変えたい"])
def test_change_words_ask_to_reschedule(text):
    assert parse_text(text, TODAY, channel="sandbox") == Reschedule()


@pytest.mark.parametrize("text", ["help", "HELP", "info", "menu", "?", "？", "ヘルプ", "使い方", "メニュー"])
def test_help_words_ask_for_help(text):
    assert parse_text(text, TODAY, channel="sandbox") == Help()


@pytest.mark.parametrize("text", ["ok", "OK", "I will attend", "参加します", "伺います", "了解です", "わかりました",
                                  "大丈夫です"])
def test_attending_words_confirm(text):
    assert parse_text(text, TODAY, channel="sandbox") == Confirm()


@pytest.mark.parametrize("text", ["yes", "Yes!", "Y", "はい", "はい。"])
def test_a_bare_yes_answers_a_question_and_otherwise_confirms(text):
    event = parse_text(text, TODAY, channel="sandbox")
    assert event == Yes() and isinstance(event, Confirm)


@pytest.mark.parametrize("text", ["no", "No", "いいえ", "キャンセルしません", "そのままで", "keep it"])
def test_a_bare_no_declines_and_keeps_the_text(text):
    assert parse_text(text, TODAY, channel="line") == Decline(text)


@pytest.mark.parametrize("text", ["book", "Schedule", "予約", "面接予約", "予約したい"])
def test_booking_words_ask_for_slots(text):
    assert parse_text(text, TODAY, channel="sandbox") == WantSlots()


@pytest.mark.parametrize("text", ["来週の火曜は空いてますか？", "hello", "yes please maybe", "2番か3番"])
def test_anything_else_is_unknown_and_keeps_the_text(text):
    assert parse_text(text, TODAY, channel="sandbox") == Unknown(text)


def test_unknown_text_is_trimmed_and_capped():
    assert parse_text("  hello  ", TODAY, channel="sandbox") == Unknown("hello")
    assert parse_text("あ" * 600, TODAY, channel="sandbox") == Unknown("あ" * 500)


# --- postbacks --------------------------------------------------------------------------------

@pytest.mark.parametrize("data, event", [
    ("slot:tanaka@20261201T0100Z", ChooseSlot(key="tanaka@20261201T0100Z")),
    ("date:2026-12-03", PickDate(date(2026, 12, 3))),
    ("other", OtherDates()), ("reschedule", Reschedule()), ("cancel", Cancel()), ("confirm", Confirm()),
    ("help", Help()), ("book", WantSlots()),
])
def test_a_button_becomes_its_event(data, event):
    assert parse_postback(data, TODAY) == event


def test_a_cancel_button_cancels_the_interview_it_is_not_an_opt_out():
    assert parse_postback("cancel", TODAY) == Cancel()


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("text", ["はい、キャンセルします", "はい キャンセル", "はい。キャンセルします",
                                  "Yes, cancel it", "yes cancel"])
def test_the_yes_cancel_button_typed_out_is_a_sure_cancel(text, channel):
    assert parse_text(text, TODAY, channel=channel) == Cancel(sure=True)


@pytest.mark.parametrize("text", ["キャンセルします", "キャンセルしたいです", "キャンセルでお願いします"])
def test_asking_to_cancel_in_a_sentence_still_asks_first(text):
    assert parse_text(text, TODAY, channel="line") == Cancel()


def test_the_buttons_under_really_cancel_are_a_sure_cancel_and_a_decline():
    assert parse_postback("cancel:yes", TODAY) == Cancel(sure=True)
    assert parse_postback("keep", TODAY) == Decline()


def test_a_slot_key_up_to_120_characters_is_accepted():
    assert parse_postback("slot:" + "k" * 120, TODAY) == ChooseSlot(key="k" * 120)


@pytest.mark.parametrize("data", ["date:2026-02-30", "date:tomorrow", "date:", "date:2026-13-01", "slot:",
                                  "slot:" + "k" * 121, "bogus", "", "other:1", "cancel:all", "book:now", ":",
                                  "x" * 1000])
def test_forged_button_data_is_unknown_and_capped(data):
    event = parse_postback(data, TODAY)
    assert event == Unknown(data[:100]) and len(event.text) <= 100
