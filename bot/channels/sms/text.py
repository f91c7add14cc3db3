"""A message payload as plain SMS text: numbered choices, short links, within a segment budget."""
from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Callable
from zoneinfo import ZoneInfo

from bot.core.messages import fill
from bot.core.unbroken import plain
from bot.core.vocab import Kind

# Each SMS may use at most this many segments (Japanese text is UCS-2: 70 characters alone, 67 per part).
SEGMENT_BUDGET = 2
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€\f")  # two septets each (escape + char)
_URL = re.compile(r"https?://[^\s）)」]+")
_WD_JA = "月火水木金土日"

# Our own short wordings for SMS; the long ones in bot.core.texts stay for LINE, e-mail and the chat.
LEADS = {
    "ja": {
        "greeting": "{name}さん、{company}です。ご応募ありがとうございます！面接の日時を番号で返信してください。",
        # The number we call from, in the greeting's first line whenever the times still fit the budget.
        "greeting_phone": ("{name}さん、{company}です。ご応募ありがとうございます！{phone}からお電話します。"
                           "面接の日時を番号で返信してください。"),
        "greeting_no_slots": ("{name}さん、{company}です。ご応募ありがとうございます！"
                              "面接の日時は、担当者より{when}改めてご連絡いたします。"
                              "お電話は{phone}からおかけします。"),
        "offer_again": "ご都合のよい日時を番号でご返信ください。",
        "slot_taken": "申し訳ありません、その時間はたった今埋まりました。こちらはいかがでしょうか？",
        "reschedule": "日程変更ですね。今の予約（{current}）はそのままです。新しい日時を番号でどうぞ。",
        "offer_on_date": "この日はこちらが空いております。番号でご返信ください。",
        "pick_again": "恐れ入りますが、番号でご返信ください。",
        "welcome_back": "おかえりなさい、{name}さん。配信を再開いたしました。面接の日時を番号でご返信ください。",
        "no_show": "{name}さん、本日はお会いできず残念でした。よろしければ、もう一度番号で日時をお選びください。",
        "date_menu": "ご希望の日を番号か「12/3」のように返信してください。空きのある日:",
        "no_slots_on_date": "申し訳ありません、その日は空きがありませんでした。空きのある日を番号でどうぞ:",
        "booked": "ご予約が確定しました。\n{slot}\n{place}",
        "reminder_day_before": "{name}さん、{company}です。明日は面接ですね。\n{slot}\n{place}",
        "reminder_soon": "{name}さん、このあと面接ですね。お気をつけてお越しください。\n{slot}\n{place}",
        "reminder_soon_online": ("{name}さん、このあとオンライン面接ですね。"
                                 "少し前にリンクを開いてお待ちください。\n{slot}\n{place}"),
        "unconfirmed_nudge": "{name}さん、{company}です。面接は{slot}です。",
        "nudge": "{name}さん、{company}です。面接の日時はいつでもお選びいただけます。「予約」とご返信ください。",
        "reply_hint": "ご参加は「1」、日程の変更は「2」、キャンセルは「キャンセル」とご返信ください。",
        "other": "0) 他の日",
        "content": "面接の前に、私たちのことを少しご紹介させてください。",
        "links": {"video": "動画", "article": "記事", "message": "メッセージ"},
        "phone": "お電話は{phone}からおかけします。",
        "ics": "カレンダー登録: {ics}",
        "booked_hint": "変更は「変更」、キャンセルは「キャンセル」とご返信ください。",
    },
    "en": {
        "greeting": "Hi {name}, {company} here. Thanks for applying! Reply with a number to book your interview:",
        "greeting_phone": ("Hi {name}, {company} here. Thanks for applying! When we call, it will be from {phone}. "
                           "Reply with a number to book your interview:"),
        "greeting_no_slots": ("Hi {name}, {company} here. Thanks for applying! "
                              "We will text you interview times {when}. "
                              "When we call, it will be from {phone}."),
        "offer_again": "Which time suits you? Reply with its number.",
        "slot_taken": "Sorry, that time was just taken. Would one of these work?",
        "reschedule": "Sure. Your booking ({current}) stays until you pick a new time:",
        "offer_on_date": "These times are free that day. Reply with a number:",
        "pick_again": "Sorry, please reply with one of the numbers.",
        "welcome_back": "Welcome back, {name}! Reply with a number to pick a time:",
        "no_show": "{name}, we missed you today. Would you like a new time? Reply with a number:",
        "date_menu": "Reply with the number of a day, or a day like 12/3. Days with free times:",
        "no_slots_on_date": "Sorry, that day is full. Reply with the number of a day with free times:",
        "booked": "You're booked!\n{slot}\n{place}",
        "reminder_day_before": "Hi {name}, {company} here. Your interview is tomorrow.\n{slot}\n{place}",
        "reminder_soon": "{name}, your interview is coming up soon.\n{slot}\n{place}",
        "reminder_soon_online": ("{name}, your online interview starts soon; open the link a few minutes early.\n"
                                 "{slot}\n{place}"),
        "unconfirmed_nudge": "Hi {name}, {company} here. Your interview is on {slot}.",
        "nudge": "Hi {name}, {company} here. You can pick an interview time any time: reply \"book\".",
        "reply_hint": "Reply 1 if you are coming, 2 to change, or \"cancel interview\".",
        "other": "0) other days",
        "content": "Before we meet, a little about us:",
        "links": {"video": "Video", "article": "Story", "message": "Message"},
        "phone": "We will call from {phone}.",
        "ics": "Calendar: {ics}",
        "booked_hint": "Reply \"change\" to move it or \"cancel interview\" to cancel.",
    },
}
_BOOKING = {"booked", "reminder_day_before", "reminder_soon", "unconfirmed_nudge", "nudge"}
_OFFERS = {"greeting", "offer_again", "slot_taken", "reschedule", "offer_on_date", "pick_again", "welcome_back",
           "no_show"}


def segments(text: str) -> int:
    """How many SMS segments Twilio bills for this text (GSM-7 160/153, otherwise UCS-2 70/67)."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in text):
        units, single, part = sum(2 if c in _GSM7_EXT else 1 for c in text), 160, 153
    else:  # characters beyond the BMP (emoji) take two UTF-16 units
        units, single, part = sum(2 if ord(c) > 0xFFFF else 1 for c in text), 70, 67
    return 0 if units == 0 else 1 if units <= single else math.ceil(units / part)


def short_slot(start: datetime, tz: ZoneInfo, locale: str) -> str:
    """12/3(木)14:00 or Thu 3 Dec 14:00: a slot in as few characters as stays clear."""
    t = start.astimezone(tz)
    if locale == "en":
        return f"{t:%a} {t.day} {t:%b} {t:%H:%M}"
    return f"{t.month}/{t.day}({_WD_JA[t.weekday()]}){t:%H:%M}"


def short_day(day: date, locale: str) -> str:
    return f"{day:%a} {day.month}/{day.day}" if locale == "en" else f"{day.month}/{day.day}({_WD_JA[day.weekday()]})"


_LOOKALIKES = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def _gsm_but_for_lookalikes(text: str) -> bool:
    """Whether the text is GSM-7 once its dashes and curly quotes are the plain ones (13:00–13:30)."""
    return all(c in _GSM7 or c in _GSM7_EXT for c in text.translate(_LOOKALIKES))


def fit(required: list[str], optional: list[str], budget: int, priority: list[int] | None = None) -> str:
    """Join the required lines, then add optional ones (most important first) while the budget holds."""
    # The no-break marks of dates and times would turn a GSM-7 text into UCS-2 (70 characters a part).
    lines, optional = [plain(line) for line in required], [plain(line) for line in optional]
    if _gsm_but_for_lookalikes("\n".join(lines + optional)):  # an en dash alone would make it UCS-2
        lines, optional = [x.translate(_LOOKALIKES) for x in lines], [x.translate(_LOOKALIKES) for x in optional]
    while len(lines[0]) > 1 and segments("\n".join(lines)) > budget:  # too long even bare: shorten the lead
        lines[0] = lines[0][:-2] + "…"
    chosen: set[int] = set()
    for j in priority if priority is not None else range(len(optional)):
        if segments("\n".join(lines + [optional[i] for i in sorted(chosen | {j})])) <= budget:
            chosen.add(j)
    text = "\n".join(lines + [optional[i] for i in sorted(chosen)])
    while segments(text) > budget and len(text) > 1:  # last resort: never send more than we pay for
        text = text[:-2] + "…"
    return text


def compose(payload: dict, locale: str, tz: ZoneInfo, shorten: Callable[[str], str],
            budget: int = SEGMENT_BUDGET) -> str:
    """Render one payload as SMS text within `budget` segments."""
    loc = locale if locale in LEADS else "ja"
    w, kind, facts = LEADS[loc], payload.get("kind", ""), payload.get("facts") or {}
    fields = {k: v for k, v in facts.items() if isinstance(v, str)}
    fields.update(current=short_slot(datetime.fromisoformat(facts["current_start"]), tz, loc)
                  if facts.get("current_start") else fields.get("current", ""))
    starts = [datetime.fromisoformat(s) for s in facts.get("slot_starts", [])]
    days = [date.fromisoformat(d) for d in facts.get("days", [])]
    links = [f"{w['links'].get(link.get('kind'), 'Link')} {shorten(link['url'])}" for link in payload.get("links", [])]
    phone = [w["phone"].format(**fields)] if fields.get("phone") else []
    lead_kind = "greeting_no_slots" if kind == Kind.GREETING and not starts else kind
    if kind == Kind.CONTENT:  # the greeting's follow-up: content links and the number we will call from
        order = list(range(len(links) + len(phone)))  # shown as: links, then the phone number
        return fit([w["content"]], links + phone, budget, order[:1] + order[len(links):] + order[1:len(links)])
    if kind in _OFFERS and lead_kind in w:
        numbered = [f"{i}) {short_slot(s, tz, loc)}" for i, s in enumerate(starts, 1)]
        extra = [w["other"]] if starts else []
        if lead_kind == Kind.GREETING and fields.get("phone"):  # the number we call from, first, when it fits
            lines = [fill(w["greeting_phone"], _Blank(fields)), *numbered, *extra]
            if segments(plain("\n".join(lines))) <= budget:
                return fit(lines, [], budget)
        return fit([fill(w[lead_kind], _Blank(fields)), *numbered, *extra], [], budget)
    # Numbered as on LINE and in the chat: "2" is the 2nd day.
    if kind in (Kind.DATE_MENU, Kind.NO_SLOTS_ON_DATE) and days:
        return fit([w[kind], *(f"{i}) {short_day(d, loc)}" for i, d in enumerate(days, 1))], [], budget)
    if kind in _BOOKING and (fields.get("slot") or kind == Kind.NUDGE):
        fields["place"] = _URL.sub(lambda m: shorten(m.group(0)), fields.get("place", ""))
        if facts.get("slot_start"):
            fields["slot"] = short_slot(datetime.fromisoformat(facts["slot_start"]), tz, loc)
        hint = [w["booked_hint"] if kind == Kind.BOOKED else w["reply_hint"]] if kind != Kind.NUDGE else []
        ics = [w["ics"].format(ics=shorten(fields["ics_url"]))] if fields.get("ics_url") and kind == Kind.BOOKED else []
        lead = w.get(f"{kind}_online") if facts.get("online") else None  # a video call is joined, not visited
        return fit([fill(lead or w[kind], _Blank(fields)), *hint], ics + (phone if kind != Kind.BOOKED else []), budget)
    text = _URL.sub(lambda m: shorten(m.group(0)), payload.get("text", ""))
    text = re.sub(r"\n{2,}", "\n", text).strip()
    lines = text.split("\n")
    return fit(lines[:1], lines[1:], budget)


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""

