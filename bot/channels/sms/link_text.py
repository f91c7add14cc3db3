"""One-way SMS (link mode): every text points to the candidate's own page and never asks for a reply.

Twilio cannot bring an SMS reply back from Japan (its guidelines: two-way SMS not supported), so a
candidate there books, confirms, changes and cancels on the page /c/<signed>, reached by a short link.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable
from zoneinfo import ZoneInfo

from bot.channels.sms.text import _URL, SEGMENT_BUDGET, _Blank, fit, short_slot
from bot.core.vocab import Kind
from bot.service.candidate_page import without_reply_requests

PAGE, CONFIRM, CHANGE = "page", "confirm", "change"
# kind -> (lead, which links, in order). Our own short wordings; the page does the rest.
LINK_LEADS = {
    "ja": {
        "greeting": ("{name}さん、{company}です。ご応募ありがとうございます！"
                     "面接の日時は、こちらからワンタップでお選びいただけます。",
                     (PAGE,)),
        "greeting_no_slots": ("{name}さん、{company}です。ご応募ありがとうございます！"
                              "面接の日時は担当者から{when}ご連絡いたします。",
                              ()),
        "offer_again": ("ご都合のよい日時を、こちらからお選びください。", (PAGE,)),
        "slot_taken": ("申し訳ありません、その時間はたった今埋まりました。ほかの日時をこちらからお選びください。",
                       (PAGE,)),
        "reschedule": ("日程の変更ですね。今のご予約（{current}）はそのままです。新しい日時はこちらから:", (PAGE,)),
        "offer_on_date": ("空いている時間をこちらからお選びください。", (PAGE,)),
        "pick_again": ("ご希望の日時を、こちらからお選びください。", (PAGE,)),
        "date_menu": ("空きのある日は、こちらからご覧いただけます。", (PAGE,)),
        "no_slots_on_date": ("その日は空きがありませんでした。空きのある日はこちらから:", (PAGE,)),
        "welcome_back": ("おかえりなさい、{name}さん。面接の日時はこちらからお選びいただけます。", (PAGE,)),
        "no_show": ("{name}さん、本日はお会いできず残念でした。よろしければ、もう一度こちらから日時をお選びください。",
                    (PAGE,)),
        "booked": ("ご予約が確定しました。\n{slot}\nご確認・変更・キャンセルはこちら:", (PAGE,)),
        "reminder_day_before": ("{name}さん、{company}です。明日は面接ですね。\n{slot}", (CONFIRM, CHANGE)),
        "reminder_soon": ("{name}さん、このあと面接ですね。\n{slot}", (CONFIRM, CHANGE)),
        "unconfirmed_nudge": ("{name}さん、{company}です。面接は{slot}です。", (CONFIRM, CHANGE)),
        "nudge": ("{name}さん、{company}です。面接の日時は、こちらからいつでもお選びいただけます。", (PAGE,)),
        "already_booked": ("面接は{current}でご予約済みです。変更はこちらから:", (PAGE,)),
        "confirmed": ("ご参加のご連絡ありがとうございます。{current}にお待ちしております。", ()),
        "cancelled": ("面接のキャンセルを承りました。改めてご予約いただく場合は、こちらからどうぞ。", (PAGE,)),
        "withdrawn": ("承知いたしました。ご予約をご希望の際は、こちらからいつでもどうぞ。", (PAGE,)),
        "welcome_back_booked": ("おかえりなさい、{name}さん。面接は{current}でご予約済みです。", (PAGE,)),
        "back_to_bot_booked": ("お待たせいたしました。面接は{current}で承っております。", (PAGE,)),
        "calendar_moved": ("申し訳ありません。面接担当の都合で、面接を{current}に移させていただきました。"
                           "ご都合が悪ければこちらから:",
                           (PAGE,)),
        "calendar_cancelled": ("申し訳ありません。面接担当の予定が変わり、ご予約の時間に面接ができなくなりました。"
                               "新しい日時はこちらから:",
                               (PAGE,)),
        "meeting_link": ("オンライン面接の参加用リンクをお送りします。\n{slot}\n{place}", ()),
        "stopped": ("メッセージの配信を停止しました。", ()),
        "stopped_booked": ("メッセージの配信を停止しました。面接のご予約（{current}）はそのまま残っております。"
                           "キャンセルされる場合は、こちらのページでお手続きいただくか、お電話ください。", (PAGE,)),
        "confirm": "参加します→",
        "change": "変更→",
        "phone": "お問い合わせ: {phone}",
        "call_from": "お電話は{phone}からおかけします。",
    },
    "en": {
        "greeting": ("Hi {name}, {company} here. Thanks for applying! Pick your interview time with one tap:", (PAGE,)),
        "greeting_no_slots": ("Hi {name}, {company} here. Thanks for applying! "
                              "We will send you interview times {when}.",
                              ()),
        "offer_again": ("Pick a time that suits you here:", (PAGE,)),
        "slot_taken": ("Sorry, that time was just taken. Please pick another one here:", (PAGE,)),
        "reschedule": ("Sure. Your booking ({current}) stays until you pick a new time here:", (PAGE,)),
        "offer_on_date": ("Pick one of that day's free times here:", (PAGE,)),
        "pick_again": ("Please pick your time here:", (PAGE,)),
        "date_menu": ("See the days with free times here:", (PAGE,)),
        "no_slots_on_date": ("That day is full. Days with free times:", (PAGE,)),
        "welcome_back": ("Welcome back, {name}! Pick your interview time here:", (PAGE,)),
        "no_show": ("{name}, we missed you today. If you like, pick a new time here:", (PAGE,)),
        "booked": ("You're booked!\n{slot}\nSee, change or cancel it here:", (PAGE,)),
        "reminder_day_before": ("Hi {name}, {company} here. Your interview is tomorrow.\n{slot}", (CONFIRM, CHANGE)),
        "reminder_soon": ("{name}, your interview is coming up soon.\n{slot}", (CONFIRM, CHANGE)),
        "unconfirmed_nudge": ("Hi {name}, {company} here. Your interview is on {slot}.", (CONFIRM, CHANGE)),
        "nudge": ("Hi {name}, {company} here. You can pick an interview time here any time:", (PAGE,)),
        "already_booked": ("Your interview is booked for {current}. To change it:", (PAGE,)),
        "confirmed": ("Thank you for letting us know! See you on {current}.", ()),
        "cancelled": ("Your interview is cancelled. To book again:", (PAGE,)),
        "withdrawn": ("Understood, thank you. To book later:", (PAGE,)),
        "welcome_back_booked": ("Welcome back, {name}! Your interview is booked for {current}.", (PAGE,)),
        "back_to_bot_booked": ("Thanks for waiting. Your interview is booked for {current}.", (PAGE,)),
        "calendar_moved": ("Sorry: our interviewer had to move your interview to {current}. If it does not suit you:",
                           (PAGE,)),
        "calendar_cancelled": ("Sorry: our interviewer's plans changed and your time is no longer possible. "
                               "Pick a new one here:", (PAGE,)),
        "meeting_link": ("Here is the link for your online interview.\n{slot}\n{place}", ()),
        "stopped": ("You will receive no more messages from us.", ()),
        "stopped_booked": ("You will receive no more messages. Your interview on {current} is still booked; "
                           "to cancel it, use this page or call us.", (PAGE,)),
        "confirm": "I'll be there: ",
        "change": "Change: ",
        "phone": "Questions: {phone}",
        "call_from": "We will call from {phone}.",
    },
}


@dataclass(frozen=True)
class PageLinks:
    """The candidate's page, and the same page opened at the confirm or change button."""

    page: str
    confirm: str
    change: str


def compose_link(payload: dict, locale: str, tz: ZoneInfo, shorten: Callable[[str], str], links: PageLinks,
                 budget: int = SEGMENT_BUDGET) -> str:
    """Render one payload as a one-way SMS: a short lead and short links to the page, no reply asked for."""
    loc = locale if locale in LINK_LEADS else "ja"
    w, kind, facts = LINK_LEADS[loc], payload.get("kind", ""), payload.get("facts") or {}
    fields = _Blank({k: v for k, v in facts.items() if isinstance(v, str)})
    if facts.get("current_start"):
        fields["current"] = short_slot(datetime.fromisoformat(facts["current_start"]), tz, loc)
    if facts.get("slot_start"):
        fields["slot"] = short_slot(datetime.fromisoformat(facts["slot_start"]), tz, loc)
    fields["place"] = _URL.sub(lambda m: shorten(m.group(0)), fields.get("place", ""))
    # The greeting and the nudge announce the number we will call from (so the call is picked up).
    line = "call_from" if kind in (Kind.GREETING, Kind.NUDGE) else "phone"
    phone = [w[line].format(phone=fields["phone"])] if fields.get("phone") else []
    lead_kind = "greeting_no_slots" if kind == Kind.GREETING and not facts.get("slot_starts") else kind
    if kind == Kind.STOPPED and facts.get("current_start"):  # the booking stays: say so, and where to cancel it
        lead_kind = "stopped_booked"
    if kind == Kind.CALENDAR_MOVED_ONLY:  # moved with no other times to offer: on the page it reads the same
        lead_kind = "calendar_moved"
    if lead_kind not in w:  # a message without its own short wording: its long text minus any reply request
        text = without_reply_requests(_URL.sub(lambda m: shorten(m.group(0)), payload.get("text", "")))
        lines = [line for line in text.split("\n") if line.strip()] or [""]
        if kind == Kind.THANKS_AFTER:  # the candidate attended: their page has closed (410), so no link to it
            return fit(lines[:1], lines[1:], budget)
        return fit([lines[0], shorten(links.page)], lines[1:], budget)
    lead, which = w[lead_kind]
    lead = [line for line in lead.format_map(fields).split("\n") if line.strip()]  # only the first is ever cut
    if kind in (Kind.REMINDER_DAY_BEFORE, Kind.REMINDER_SOON, Kind.UNCONFIRMED_NUDGE):
        # The two answers a reminder used to ask for ("1" / "2"), as two links; the place if it fits.
        taps = [w["confirm"] + shorten(links.confirm), w["change"] + shorten(links.change)]
        place = [fields["place"]] if fields.get("place") else []
        return fit([*lead, *taps], place + phone, budget)
    urls = [shorten(links.page)] if PAGE in which else []
    if kind == Kind.BOOKED:
        return fit([*lead, *urls], [fields["place"]] if fields.get("place") else [], budget)
    return fit([*lead, *urls], phone, budget)
