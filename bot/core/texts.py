"""Default candidate-facing texts, Japanese first, English second. Our own words, warm not formal.

Fields in {braces} are filled in by bot.core.messages; a company may override any text per locale
in its settings file ([templates.ja] / [templates.en]).
"""

JA = {
    "greeting": (
        "{name}さん、はじめまして。{company}採用担当です。\n"
        "このたびは「{job}」にご応募いただき、本当にありがとうございます！\n"
        "私たちからのお電話は {phone} からおかけします。知らない番号でも、出ていただけるとうれしいです。\n"
        "{why_meet}\n\n"
        "さっそくですが、面接の日時をお選びいただけますか？\n{slots}\n"
        "番号を送っていただくか、ボタンを押すだけでご予約いただけます。"
        "ご都合が合わない場合は「0」か「他の日」とお送りください。\n"
        "{content}"
    ),
    "greeting_no_slots": (
        "{name}さん、はじめまして。{company}採用担当です。\n"
        "このたびは「{job}」にご応募いただき、本当にありがとうございます！\n"
        "私たちからのお電話は {phone} からおかけします。知らない番号でも、出ていただけるとうれしいです。\n"
        "{why_meet}\n\n"
        "面接の日時は、担当者が{when}改めてご連絡いたします。\n"
        "{content}"
    ),
    "content_header": "\n面接の前に、私たちのことを少しだけご紹介させてください。\n",
    # The greeting as a few short messages on a chat (web chat, LINE): who we are and the number we call from, the
    # content as cards, then the times as buttons. The one-text "greeting" above stays for SMS and e-mail.
    "greeting_intro": (
        "{name}さん、はじめまして。{company}採用担当です。\n"
        "「{job}」へのご応募、本当にありがとうございます！\n"
        "お電話は {phone} からおかけします。知らない番号でも、出ていただけるとうれしいです。\n"
        "{why_meet}"
    ),
    "greeting_ask": "面接の日時を、下からお選びいただけますか？番号（1〜{count}）でお返事いただいても大丈夫です。",
    "greeting_wait": "面接の日時は、担当者が{when}改めてご連絡いたします。",
    "offer_again": (
        "{name}さん、ご都合のよい日時をお選びください。\n{slots}\n"
        "ほかの日をご希望の場合は「0」とお送りください。"
    ),
    "slot_taken": (
        "申し訳ありません、{name}さん。お選びいただいた時間は、たった今ほかの方の予約が入ってしまいました。\n"
        "こちらの日時はいかがでしょうか？\n{slots}"
    ),
    "reschedule": (
        "日程の変更ですね。承知いたしました。\n今のご予約（{current}）は、新しい日時が決まるまでそのまま残しております。"
        "新しい日時をお選びください。\n{slots}\nほかの日をご希望の場合は「0」とお送りください。"
    ),
    "offer_on_date": "{date}はこちらの時間が空いています。\n{slots}",
    "pick_again": "恐れ入りますが、どの日時かわかりませんでした。番号（1〜{count}）で教えてください。\n{slots}",
    "date_menu": (
        "空きのある日はこちらです。ご希望の日を、番号か日付（例: {example}）で教えてください。\n{dates}"
    ),
    "no_slots_on_date": (
        "申し訳ありません、その日は空きがございませんでした。空きのある日はこちらです。"
        "ご希望の日を番号で教えてください。\n{dates}"
    ),
    "no_slots": (
        "申し訳ありません。ただいまご案内できる面接の空き枠がございません。担当者が{when}直接ご連絡いたします。\n"
        "お急ぎの場合は、お手数ですが {phone} までお電話ください。"
    ),
    "booked": (
        "ありがとうございます！面接のご予約が確定しました。\n\n"
        "日時: {slot}\n場所: {place}\n面接担当: {interviewer}\n持ち物: {bring}\n\n"
        "カレンダーに追加: {ics_url}\n"
        "日程の変更は「変更」、キャンセルは「キャンセル」とお送りください。\n"
        "当日お会いできるのを楽しみにしております。"
    ),
    "already_booked": "面接はすでにご予約済みです（{current}）。日程を変更される場合は「変更」とお送りください。",
    "confirmed": "ご返信ありがとうございます。{current}、お待ちしております。どうぞお気をつけてお越しください。",
    "cancelled": (
        "面接のキャンセルを承りました。ご連絡ありがとうございます。\n"
        "改めて面接をご希望の際は、いつでも「予約」とお送りください。"
    ),
    "withdrawn": (
        "承知いたしました。ご連絡ありがとうございます。"
        "改めて面接をご希望の際は、いつでも「予約」とお送りください。"
    ),
    "handoff": (
        "メッセージをありがとうございます。担当者が内容を確認し、{when}ご連絡いたします。\n"
        "お急ぎの場合は、お手数ですが {phone} までお電話ください。"
    ),
    "help": (
        "次のようにお送りください。\n・番号（1, 2, 3…）: その日時でご予約\n・「0」か「他の日」: 別の日を探す\n"
        "・「変更」: ご予約の日時を変更\n・「キャンセル」: 面接をキャンセル\n・「配信停止」: メッセージの配信を停止\n"
        "お電話でのお問い合わせは {phone} までどうぞ。"
    ),
    "stopped": "メッセージの配信を停止しました。再開をご希望の場合は「配信再開」とお送りください。",
    "welcome_back": (
        "おかえりなさい、{name}さん。配信を再開いたしました。"
        "面接の日時はこちらからお選びください。\n{slots}"
    ),
    "welcome_back_booked": (
        "おかえりなさい、{name}さん。配信を再開いたしました。"
        "面接は{current}のままご予約いただいております。"
    ),
    "back_to_bot_booked": "お待たせいたしました。面接は{current}で承っております。",
    "thanks_after": (
        "{name}さん、本日はお忙しいなか面接にお越しいただき、ありがとうございました。"
        "結果につきましては、担当者より改めてご連絡いたします。"
    ),
    "no_show": (
        "{name}さん、本日はお会いできず残念でした。何かあったのではと気にかけております。\n"
        "もしよろしければ、もう一度日程をお選びいただけませんか？\n{slots}"
    ),
    "other_dates_button": "他の日にする",
    "reschedule_button": "日程を変更",
    "cancel_button": "キャンセル",
    "book_button": "もう一度予約する",
    "online": "オンライン（{url}）",
    "office": "{address}（地図: {map_url}）",
    "meeting_link": (
        "{name}さん、お待たせいたしました。オンライン面接の参加用リンクをお送りします。\n\n"
        "日時: {slot}\n参加方法: {place}\n\n"
        "当日は、開始の少し前にリンクを開いておいていただけると安心です。"
    ),
    "calendar_moved": (
        "{name}さん、{company}です。面接担当の都合により、面接を{current}に移させていただきました。"
        "急な変更となり、申し訳ありません。\n"
        "この日時でよろしければ、お返事は不要です。ご都合が悪い場合は、こちらから別の日時をお選びください。\n{slots}"
    ),
    "calendar_moved_only": (
        "{name}さん、{company}です。面接担当の都合により、面接を{current}に移させていただきました。"
        "急な変更となり、申し訳ありません。\n"
        "ご都合が悪い場合は「変更」とお送りください。一緒に別の日時をお探しします。"
    ),
    "calendar_cancelled": (
        "{name}さん、申し訳ありません。面接担当の予定が変わり、ご予約の時間に面接ができなくなりました。\n"
        "お手数をおかけしますが、こちらから新しい日時をお選びいただけますか？\n{slots}"
    ),
    "calendar_cancelled_no_slots": (
        "{name}さん、申し訳ありません。面接担当の予定が変わり、ご予約の時間に面接ができなくなりました。\n"
        "新しい日時は、担当者が{when}直接ご連絡いたします。お急ぎの場合は {phone} までお電話ください。"
    ),
    "reminder_day_before": (
        "{name}さん、こんにちは。{company}です。\n明日はいよいよ面接ですね。お会いできるのを楽しみにしております。\n\n"
        "日時: {slot}\n場所: {place}\n\n"
        "ご参加いただける場合は「1」、日程を変更されたい場合は「2」をお送りください（ボタンでも大丈夫です）。"
        "キャンセルされる場合は「キャンセル」とお送りください。"
    ),
    "reminder_soon": (
        "{name}さん、このあと面接ですね。お会いできるのを楽しみにしております。どうぞお気をつけてお越しください。\n\n"
        "日時: {slot}\n場所: {place}\n\n"
        "ご参加いただける場合は「1」、日程を変更されたい場合は「2」をお送りください。"
        "お困りのことがあれば {phone} までお電話ください。"
    ),
    "unconfirmed_nudge": (
        "{name}さん、{company}です。念のため、こちらからもご連絡いたしました。\n"
        "面接は {slot} です。ご参加いただける場合は「1」、日程を変更されたい場合は「2」をお送りください。\n"
        "担当者から {phone} でお電話を差し上げることもございます。"
    ),
    "nudge": (
        "{name}さん、{company}です。先ほどのメッセージはお手元に届いておりますか？\n"
        "面接の日時は、いつでもお選びいただけます。「予約」とお送りいただくか、下のボタンを押してください。\n"
        "お電話は {phone} からおかけします。"
    ),
    "confirm_button": "参加します",
    "pick_button": "日時を選ぶ",
}

EN = {
    "greeting": (
        "Hello {name}, this is the hiring team at {company}.\n"
        "Thank you so much for applying for {job}!\n"
        "When we call, it will be from {phone}, so please pick up even if the number is new to you.\n{why_meet}\n\n"
        "Could you pick a time for your interview?\n{slots}\n"
        "Just reply with the number or tap a button. If none of these work, send \"0\" or \"other\".\n"
        "{content}"
    ),
    "greeting_no_slots": (
        "Hello {name}, this is the hiring team at {company}.\n"
        "Thank you so much for applying for {job}!\n"
        "When we call, it will be from {phone}, so please pick up even if the number is new to you.\n{why_meet}\n\n"
        "A member of our team will get back to you {when} with interview times.\n"
        "{content}"
    ),
    "content_header": "\nBefore we meet, here is a little about us:\n",
    "greeting_intro": (
        "Hello {name}, this is the hiring team at {company}.\n"
        "Thank you so much for applying for {job}!\n"
        "When we call, it will be from {phone}, so please pick up even if the number is new to you.\n{why_meet}"
    ),
    "greeting_ask": "Could you pick a time for your interview below? Replying with its number (1–{count}) works too.",
    "greeting_wait": "A member of our team will get back to you {when} with interview times.",
    "offer_again": "{name}, which time suits you?\n{slots}\nSend \"0\" for other days.",
    "slot_taken": "Sorry, {name}, someone booked that time just a moment ago. Would one of these work?\n{slots}",
    "reschedule": (
        "Of course, let's find a new time. Your current booking ({current}) stays until you pick one.\n"
        "{slots}\nSend \"0\" for other days."
    ),
    "offer_on_date": "On {date} these times are free:\n{slots}",
    "pick_again": "Sorry, I couldn't tell which time you meant. Please reply with a number from 1 to {count}.\n{slots}",
    "date_menu": (
        "These days still have free times. Which would you like? Reply with its number or a date "
        "(e.g. {example}).\n{dates}"
    ),
    "no_slots_on_date": (
        "Sorry, that day is fully booked. These days still have free times; reply with the number of one:\n{dates}"
    ),
    "no_slots": (
        "We are sorry: there are no interview times we can offer right now. "
        "A member of our team will contact you {when}.\nIf it is urgent, please call us at {phone}."
    ),
    "booked": (
        "Thank you! Your interview is booked.\n\n"
        "When: {slot}\nWhere: {place}\nInterviewer: {interviewer}\nPlease bring: {bring}\n\n"
        "Add to your calendar: {ics_url}\n"
        "To change the time, reply \"change\"; to cancel, reply \"cancel interview\".\n"
        "We look forward to meeting you."
    ),
    "already_booked": "Your interview is already booked ({current}). Reply \"change\" if you would like another time.",
    "confirmed": "Thank you for letting us know! We look forward to seeing you on {current}. Have a safe trip.",
    "cancelled": "Your interview is cancelled. Thank you for telling us. If you change your mind, just reply \"book\".",
    "withdrawn": "Understood, thank you for letting us know. If you change your mind, just reply \"book\".",
    "handoff": (
        "Thank you for your message. A member of our team will read it and get back to you {when}.\n"
        "If it is urgent, please call us at {phone}."
    ),
    "help": (
        "Here is what you can send:\n- a number (1, 2, 3...): book that time\n"
        "- \"0\" or \"other\": look at other days\n"
        "- \"change\": move your interview\n- \"cancel interview\": cancel it\n- \"STOP\": no more messages\n"
        "You can also call us at {phone}."
    ),
    "stopped": "You will receive no more messages. Send \"START\" to hear from us again.",
    "welcome_back": "Welcome back, {name}! Here are the interview times:\n{slots}",
    "welcome_back_booked": "Welcome back, {name}! Your interview is still booked for {current}.",
    "back_to_bot_booked": "Thanks for waiting. Your interview is booked for {current}.",
    "thanks_after": (
        "{name}, thank you for coming in for your interview today! "
        "We will be in touch about the next steps soon."
    ),
    "no_show": (
        "{name}, we missed you today and hope everything is all right. "
        "Would you like to pick a new time?\n{slots}"
    ),
    "other_dates_button": "Other days",
    "reschedule_button": "Change time",
    "cancel_button": "Cancel interview",
    "book_button": "Book again",
    "online": "Online ({url})",
    "office": "{address} (map: {map_url})",
    "meeting_link": (
        "{name}, thanks for waiting: the link for your online interview is ready.\n\n"
        "When: {slot}\nHow to join: {place}\n\n"
        "Opening it a few minutes early makes the start relaxed."
    ),
    "calendar_moved": (
        "Hello {name}, this is {company}. Our interviewer had to move your interview to {current}. "
        "We are sorry for the change.\nIf the new time works, there is no need to reply. "
        "If it does not, please pick another one:\n{slots}"
    ),
    "calendar_moved_only": (
        "Hello {name}, this is {company}. Our interviewer had to move your interview to {current}. "
        "We are sorry for the change.\n"
        "If it does not suit you, reply \"change\" and we will find another time together."
    ),
    "calendar_cancelled": (
        "{name}, we are sorry: our interviewer's plans changed and we can no longer meet at the time you booked.\n"
        "Could you pick a new time?\n{slots}"
    ),
    "calendar_cancelled_no_slots": (
        "{name}, we are sorry: our interviewer's plans changed and we can no longer meet at the time you booked.\n"
        "A member of our team will contact you {when} with a new time. If it is urgent, please call us at {phone}."
    ),
    "reminder_day_before": (
        "Hello {name}, this is {company}. Your interview is tomorrow, and we are looking forward to meeting you.\n\n"
        "When: {slot}\nWhere: {place}\n\n"
        "Reply \"1\" if you can make it or \"2\" to change the time (or tap a button). "
        "To cancel, reply \"cancel interview\"."
    ),
    "reminder_soon": (
        "{name}, your interview is coming up soon, and we look forward to seeing you. Have a safe trip!\n\n"
        "When: {slot}\nWhere: {place}\n\nReply \"1\" if you are coming or \"2\" to change the time. "
        "If anything comes up, call us at {phone}."
    ),
    "unconfirmed_nudge": (
        "Hello {name}, this is {company}. We are writing here too, just in case.\n"
        "Your interview is on {slot}. Reply \"1\" if you can make it or \"2\" to change the time.\n"
        "Someone from our team may also call you from {phone}."
    ),
    "nudge": (
        "Hello {name}, this is {company}. Did our earlier message reach you?\n"
        "You can pick an interview time whenever you like: reply \"book\" or tap the button below.\n"
        "We will call you from {phone}."
    ),
    "confirm_button": "I'll be there",
    "pick_button": "Pick a time",
}

# Alerts for the recruiter (Japanese: the recruiter page and mail are in Japanese).
RECRUITER = {
    "unconfirmed": ("{name}さん（#{id}、電話 {phone}）から、{when} の面接への参加の確認がまだありません"
                    "（前日リマインド済み）。"
                    "事前にお知らせした番号 {company_phone} からお電話で確認をお願いします。"),
    "unconfirmed_no_phone": ("{name}さん（#{id}）から、{when} の面接への参加の確認がまだありません"
                             "（前日リマインド済み）。"
                             "お電話番号のご登録がないため、メール（{email}）で確認をお願いします。"),
    "unreachable": "{name}さん（#{id}）は最初のご連絡と{count}回のフォローに返信がありません。連絡不通にしました。",
    "outcome": ("{name}さん（#{id}）の {when} の面接はいかがでしたか？結果を記録してください。\n"
                "参加: {attended}\n不参加: {no_show}"),
}

TEXTS = {"ja": JA, "en": EN}

# LINE: answers to stickers and photos, applying inside LINE, the booking card. Merged into the tables above
# so a company can override them like any other text.
JA.update({
    "line_content": "私たちのことを、動画や記事で少しご紹介させてください。",
    "sticker_reply": "スタンプありがとうございます！ご用件を文字でお送りいただければ、すぐにお返事いたします。",
    "media_reply": "お送りいただき、ありがとうございます。担当者が確認し、改めてご連絡いたします。",
    "unsupported_reply": (
        "ありがとうございます。申し訳ありません、このメッセージには自動でお返事できません。"
        "文字でお送りいただくか、お電話（{phone}）でご連絡ください。"
    ),
    "group_reply": (
        "お招きいただき、ありがとうございます。申し訳ありません、{company}の採用アカウントは1対1のトークでのみお返事しております。"
        "友だち追加のうえ、個別にメッセージをお送りください。"
    ),
    "human_requested": "承知いたしました。担当者が{when}ご連絡いたします。お急ぎの場合は {phone} までお電話ください。",
    "line_welcome": (
        "友だち追加ありがとうございます！{company}採用担当です。\n\n"
        "Webでご応募済みの方は、応募完了画面に表示された6文字のコードをお送りください。\n"
        "これからご応募の方は、このトークで1分ほどでご応募いただけます。まずはお名前（フルネーム）を教えてください。\n\n"
        "English: send the 6-letter code from your application, or your full name to apply here."
    ),
    "line_ask_name": "お名前（フルネーム）を文字でお送りください。例: 山田 花子",
    "line_ask_job": "{name}さん、ありがとうございます！ご希望のお仕事を下のボタンからお選びください。",
    "line_ask_phone": (
        "最後に、お電話番号を教えてください。面接の前にお電話を差し上げることがあります。\n"
        "番号の入力を省略される場合は「スキップ」を押してください。"
    ),
    "line_bad_phone": (
        "申し訳ありません、電話番号として読み取れませんでした。090-1234-5678 のようにお送りいただくか、"
        "「スキップ」を押してください。"
    ),
    "line_code_unknown": (
        "申し訳ありません、そのコードが見つかりませんでした。応募完了画面の6文字のコードをもう一度ご確認ください。"
        "ご不明な場合は {phone} までお電話ください。"
    ),
    "line_code_locked": (
        "申し訳ありません、コードが続けて確認できなかったため、しばらくの間コードをお受けできません。"
        "お手数ですが明日あらためてお送りいただくか、{phone} までお電話ください。"
    ),
    "line_code_later": (
        "新しいご応募ありがとうございます。ご予約中の面接が終わるまで、このトークではその面接のご案内を続けます。"
        "新しいご応募については担当者からご連絡いたします。お急ぎの場合は {phone} までお電話ください。"
    ),
    "skip_button": "スキップ",
    "card_title": "面接のご予約",
    "card_date": "日付",
    "card_time": "時間",
    "card_place": "場所",
    "card_online": "オンライン",
    "card_interviewer": "面接担当",
    "card_bring": "持ち物",
    "card_phone": "電話",
    "card_join": "オンライン面接に参加",
    "card_map": "地図を開く",
    "card_call": "電話する",
    "card_calendar": "カレンダーに追加",
})
EN.update({
    "line_content": "Here is a little about us, in videos and articles.",
    "sticker_reply": "Thanks for the sticker! If you send your question as text, I can answer right away.",
    "media_reply": "Thank you for sending this. A member of our team will look at it and get back to you.",
    "unsupported_reply": (
        "Thank you! Sorry, I can't answer this kind of message by myself. "
        "Please send text, or call us at {phone}."
    ),
    "group_reply": (
        "Thanks for inviting us! Sorry, the {company} hiring account only answers one-to-one chats. "
        "Please add us as a friend and message us directly."
    ),
    "human_requested": (
        "Of course. A member of our team will get back to you {when}. If it is urgent, please call us at {phone}."
    ),
    "line_welcome": (
        "Thanks for adding us! This is the hiring team at {company}.\n\n"
        "If you applied on our website, send the 6-letter code shown after you applied.\n"
        "If not, you can apply right here in about a minute. First, what is your full name?"
    ),
    "line_ask_name": "Please send your full name as text, e.g. Hanako Yamada.",
    "line_ask_job": "Thank you, {name}! Which job would you like? Tap one below.",
    "line_ask_phone": (
        "Last step: your phone number, in case we need to call before the interview.\n"
        "If you would rather not share it, tap \"Skip\"."
    ),
    "line_bad_phone": "Sorry, that doesn't look like a phone number. Send it like 090-1234-5678, or tap \"Skip\".",
    "line_code_unknown": (
        "Sorry, I couldn't find that code. Please check the 6-letter code shown after you applied, "
        "or call us at {phone}."
    ),
    "line_code_locked": (
        "Sorry, several codes in a row did not match, so we cannot take codes from you for a while. "
        "Please send it again tomorrow, or call us at {phone}."
    ),
    "line_code_later": (
        "Thank you for your new application. Until your booked interview is over, this chat stays about that "
        "interview; a member of our team will contact you about the new one. If it is urgent, call {phone}."
    ),
    "skip_button": "Skip",
    "card_title": "Your interview",
    "card_date": "Date",
    "card_time": "Time",
    "card_place": "Place",
    "card_online": "Online",
    "card_interviewer": "Interviewer",
    "card_bring": "Bring",
    "card_phone": "Phone",
    "card_join": "Join the interview",
    "card_map": "Open the map",
    "card_call": "Call us",
    "card_calendar": "Add to calendar",
})

# Hand-offs that say when a person answers, a question before cancelling, and what a stop does to a booking.
# {when} is worked out from the company's office hours (bot.core.office_hours) and filled in by bot.core.messages.
JA.update({
    "answer_by_today": "本日{time}までに",
    "answer_from_today": "本日{time}以降に",
    "answer_from_tomorrow": "明日（{date}）{time}以降に",
    "answer_from_day": "{date}{time}以降に",
    "handoff_offered": (
        "メッセージをありがとうございます。担当者が内容を確認し、{when}ご連絡いたします。\n"
        "お急ぎの場合は、お手数ですが {phone} までお電話ください。\n\n"
        "お返事をお待ちいただく間も、面接の日時はこちらからお選びいただけます（番号をお送りいただくか、ボタンを押してください）。\n"
        "{slots}"
    ),
    "confirm_cancel": (
        "{current}の面接を、本当にキャンセルしてよろしいですか？\n"
        "キャンセルされる場合は「はい」、ご予約をそのまま残す場合は「いいえ」とお送りください。"
    ),
    "cancel_kept": "承知いたしました。面接のご予約（{current}）はそのまま残しております。",
    "cancel_yes_button": "はい、キャンセルします",
    "keep_button": "いいえ、予約を残します",
    "stopped_booked": (
        "メッセージの配信を停止しました。\n"
        "面接のご予約（{current}）はそのまま残しております。前日や当日のご案内もお送りしませんので、日時をお控えください。\n"
        "ご都合が悪くなった場合やキャンセルされる場合は、お手数ですが {phone} までお電話ください。\n"
        "配信の再開をご希望の場合は「配信再開」とお送りください。"
    ),
    "welcome_back_handoff": (
        "おかえりなさい、{name}さん。配信を再開いたしました。\n"
        "お問い合わせの件は、担当者が{when}ご連絡いたします。お急ぎの場合は {phone} までお電話ください。"
    ),
    "welcome_back_handoff_booked": (
        "おかえりなさい、{name}さん。配信を再開いたしました。面接は{current}でご予約いただいております。\n"
        "お問い合わせの件は、担当者が{when}ご連絡いたします。お急ぎの場合は {phone} までお電話ください。"
    ),
})
EN.update({
    "answer_by_today": "by {time} today",
    "answer_from_today": "from {time} today",
    "answer_from_tomorrow": "tomorrow ({date}) from {time}",
    "answer_from_day": "on {date} from {time}",
    "handoff_offered": (
        "Thank you for your message. A member of our team will read it and get back to you {when}.\n"
        "If it is urgent, please call us at {phone}.\n\n"
        "While you wait, you can still book your interview: reply with a number or tap a time.\n{slots}"
    ),
    "confirm_cancel": (
        "Do you really want to cancel your interview on {current}?\n"
        "Reply \"yes\" to cancel it, or \"no\" to keep it."
    ),
    "cancel_kept": "Understood. Your interview on {current} stays booked.",
    "cancel_yes_button": "Yes, cancel it",
    "keep_button": "No, keep it",
    "stopped_booked": (
        "You will receive no more messages from us.\n"
        "Your interview on {current} is still booked. We will not send reminders, so please keep a note of the time.\n"
        "If you can no longer attend or would like to cancel, please call us at {phone}.\n"
        "Send \"START\" to hear from us again."
    ),
    "welcome_back_handoff": (
        "Welcome back, {name}! Messages are on again.\n"
        "A member of our team will still get back to you about your question {when}. "
        "If it is urgent, please call us at {phone}."
    ),
    "welcome_back_handoff_booked": (
        "Welcome back, {name}! Messages are on again, and your interview is still booked for {current}.\n"
        "A member of our team will still get back to you about your question {when}. "
        "If it is urgent, please call us at {phone}."
    ),
})

# Online interviews are joined, never visited: Renderer.wording() picks "<kind>_online" for an online job.
JA.update({
    "confirmed_online": (
        "ご返信ありがとうございます。{current}、オンラインでお会いできるのを楽しみにしております。\n"
        "参加方法: {place}\n開始の少し前にリンクを開いておいていただけると安心です。"
    ),
    "thanks_after_online": (
        "{name}さん、本日はお忙しいなかオンライン面接にご参加いただき、ありがとうございました。"
        "結果につきましては、担当者より改めてご連絡いたします。"
    ),
    "reminder_soon_online": (
        "{name}さん、このあとオンライン面接ですね。開始の少し前に、下記のリンクからご参加ください。\n\n"
        "日時: {slot}\n参加方法: {place}\n\n"
        "ご参加いただける場合は「1」、日程を変更されたい場合は「2」をお送りください。"
        "お困りのことがあれば {phone} までお電話ください。"
    ),
})
EN.update({
    "confirmed_online": (
        "Thank you for letting us know! We look forward to meeting you online on {current}.\n"
        "How to join: {place}\nOpening the link a few minutes early makes for a relaxed start."
    ),
    "thanks_after_online": (
        "{name}, thank you for joining your online interview today! We will be in touch about the next steps soon."
    ),
    "reminder_soon_online": (
        "{name}, your online interview starts soon. Opening the link a few minutes early makes for a relaxed start.\n\n"
        "When: {slot}\nHow to join: {place}\n\nReply \"1\" if you are joining or \"2\" to change the time. "
        "If anything comes up, call us at {phone}."
    ),
})
