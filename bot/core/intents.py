"""Turn what a candidate typed (or tapped) into a conversation event. Pure functions."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, time

from bot.core.events import (
    Cancel,
    ChooseSlot,
    Confirm,
    Decline,
    Event,
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

# Twilio's own opt-out words: on SMS Twilio blocks the number when the whole message is one of them, before
# we see it, so there they must mean the same to us. Elsewhere "cancel" means the interview, and "end" or
# "quit" mean nothing special (a person reads them).
CARRIER_STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
CARRIER_START_WORDS = {"start", "unstop"}  # "yes" opts in too; the conversation reads it as a confirmation
STOP_WORDS = {"stop", "stopall", "unsubscribe", "optout", "配信停止", "停止", "ストップ"}  # on every channel
START_WORDS = {"start", "unstop", "配信再開", "再開"}  # Twilio's "yes" opts in too: read as Yes, which restarts
# The words of the "yes, cancel" button typed out (SMS has no buttons): as sure as the tap itself.
_SURE_CANCEL = re.compile(r"^(?:はい[、,。 ]?(?:キャンセル(?:します|してください|でお願いします)?)"
                          r"|yes,? cancel(?: it)?)$")
_PHRASES: list[tuple[type, tuple[str, ...]]] = [
    (Help, ("help", "ヘルプ", "使い方", "?", "info", "menu", "メニュー")),
    (Yes, ("yes", "y", "yeah", "はい")),
    (Decline, ("no", "n", "nope", "keep", "keep it", "don't cancel", "do not cancel", "いいえ", "いえ",
               "キャンセルしない", "キャンセルしません", "残す", "残します", "そのままで",
               "いいえ、予約を残します", "予約を残します", "no, keep it")),
    (Cancel, ("cancel", "cancel interview", "cancel my interview", "キャンセル", "面接キャンセル", "取り消し", "取消",
              "辞退", "予約キャンセル", "キャンセルします", "キャンセルしたい", "キャンセルしたいです",
              "キャンセルお願いします", "キャンセルでお願いします", "面接をキャンセルしたい")),
    (Reschedule, ("reschedule", "change", "change date", "change time", "日程変更", "変更", "日時変更", "予約変更",
                 "変えたい", "日程を変更", "日程を変更したい", "日程を変更したいです", "変更したい", "変更したいです")),
    (OtherDates, ("0", "other", "other dates", "other days", "他の日", "ほかの日", "別の日", "他の日程", "別日",
                  "他の日にち", "ほかの日程", "どれも無理", "都合が合わない", "他の日にする")),
    (Confirm, ("ok", "okay", "attend", "attending", "i will attend", "参加", "参加します",
               "行きます", "伺います", "大丈夫です", "了解", "了解です", "承知しました", "わかりました",
               "i'll be there", "i’ll be there", "i will be there")),
    (WantSlots, ("book", "schedule", "slots", "予約", "日程", "面接", "面接予約", "予約したい", "もう一度予約する",
                "日時を選ぶ", "book again", "pick a time")),
]
_NUMBER = re.compile(r"^(?:no\.?\s*)?(\d{1,2})\s*(?:番目?|ban)?\s*(?:です|で|でお願いします|でお願いいたします"
                     r"|にします|お願いします|がいいです|が良いです|がいい|希望です|希望|please)?[。.!！]?$")
_DATE = re.compile(r"^(?:(\d{4})[/\-年])?(\d{1,2})[/\-月](\d{1,2})日?(?:\(.\))?$")
# A day and a time of day typed together: 12/3 13:00, 12月3日の13時でお願いします,
# a time button's label 12月3日(木) 13:00〜13:30.
_DATE_TIME = re.compile(r"^(?:(\d{4})[/\-年])?(\d{1,2})[/\-月](\d{1,2})日?(?:\(.\))?\s*の?\s*"
                        r"(\d{1,2})(?::(\d{2})|時(?:(\d{1,2})分|(半))?)"
                        r"(?:\s*[〜~\-–]\s*\d{1,2}(?::\d{2}|時)?)?\s*(?:から|〜|~)?\s*"
                        r"(?:です|で|でお願いします|でお願いいたします|にします|お願いします|がいいです|が良いです|希望です|希望)?$")

# English dates as our English texts write them ("Wed 2 Dec", a time button's "Wed 2 Dec, 13:00–13:30"), or "Dec 2".
_FULL_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                "november", "december")
_EN_DATE = re.compile(r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
                      r"(?:(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]{3,9})\.?|([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?)"
                      r"(?:,?\s+(\d{4}))?(?:,?\s*(?:at\s+)?(\d{1,2}):(\d{2})(?:\s*[–~\-]\s*\d{1,2}:\d{2})?)?$")


def _english_date(norm: str, today: date) -> PickDate | None:
    """'wed 2 dec', '2 december', 'dec 2nd', with a year or a time ('wed 2 dec, 13:00–13:30'); else None."""
    match = _EN_DATE.match(norm.replace("\u2060", ""))
    if not match:
        return None
    day, name = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
    month = 9 if name == "sept" else next((i for i, m in enumerate(_FULL_MONTHS, 1) if m.startswith(name)), None)
    picked = _resolve_day(match.group(5), month, int(day), today) if month else None
    if picked is None or match.group(6) is None:
        return PickDate(picked) if picked else None
    hour, minute = int(match.group(6)), int(match.group(7))
    return PickDate(picked, at=time(hour, minute)) if hour < 24 and minute < 60 else None


def normalise(text: str) -> str:
    """NFKC (full-width digits and letters to half-width), trimmed, lower-case, single spaces."""
    text = unicodedata.normalize("NFKC", text or "").strip().lower()
    return re.sub(r"\s+", " ", text).strip(" 　。.!！")


def _resolve_day(year: str | None, month: int, day: int, today: date) -> date | None:
    try:
        if year:
            return date(int(year), month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def parse_text(text: str, today: date, *, channel: str) -> Event:
    """Understand a free-text reply on `channel` (line, sms, sandbox...); anything unclear becomes Unknown."""
    norm = normalise(text)
    if norm in STOP_WORDS or (channel == "sms" and norm in CARRIER_STOP_WORDS):
        return Stop()
    if norm in START_WORDS:
        return Start()
    if match := _NUMBER.match(norm):
        return ChooseSlot(number=int(match.group(1))) if match.group(1) != "0" else OtherDates()
    if match := _DATE.match(norm.replace(" ", "")):
        day = _resolve_day(match.group(1), int(match.group(2)), int(match.group(3)), today)
        if day is not None:
            return PickDate(day)
    if match := _DATE_TIME.match(norm.replace("\u2060", "")):
        day = _resolve_day(match.group(1), int(match.group(2)), int(match.group(3)), today)
        hour, minute = int(match.group(4)), 30 if match.group(7) else int(match.group(5) or match.group(6) or 0)
        if day is not None and hour < 24 and minute < 60:
            return PickDate(day, at=time(hour, minute))
    if picked := _english_date(norm, today):
        return picked
    if _SURE_CANCEL.match(norm):
        return Cancel(sure=True)
    for event_type, phrases in _PHRASES:
        if norm in phrases:
            return Decline(text.strip()[:500]) if event_type is Decline else event_type()
    return Unknown(text.strip()[:500])


def parse_postback(data: str, today: date) -> Event:
    """Understand a button's data ('slot:<key>', 'date:YYYY-MM-DD', 'other', ...); forged data is Unknown."""
    kind, _, value = (data or "").partition(":")
    simple = {"other": OtherDates, "reschedule": Reschedule, "cancel": Cancel, "confirm": Confirm,
              "help": Help, "book": WantSlots, "keep": Decline}
    if data == "cancel:yes":  # the "yes, cancel" button under the question "really cancel?"
        return Cancel(sure=True)
    if kind == "slot" and value and len(value) <= 120:
        return ChooseSlot(key=value)
    if kind == "date":
        try:
            return PickDate(date.fromisoformat(value))
        except ValueError:
            return Unknown(data[:100])
    if kind in simple and not value:
        return simple[kind]()
    return Unknown(data[:100])
