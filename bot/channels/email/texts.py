"""Words only an e-mail says, Japanese first, English second: what the links do, the facts' labels, the footer.

An e-mail has no buttons that answer: each "button" is a link to the candidate's own page, which shows what the
tap chose and asks for one more press there. The words say exactly that.
"""
from __future__ import annotations

MAIL = {
    "ja": {
        "subjects": {"greeting": "ご応募ありがとうございます（{company}）",
                     "booked": "面接のご予約が確定しました（{company}）",
                     "cancelled": "面接のキャンセルを承りました（{company}）",
                     "stopped": "配信を停止しました（{company}）",
                     "reminder_day_before": "明日の面接のご案内（{company}）",
                     "reminder_soon": "まもなく面接のお時間です（{company}）",
                     "unconfirmed_nudge": "面接のご参加について（{company}）",
                     "": "{company} 採用担当からのご連絡"},
        "times_title": "面接の日時をお選びください",
        "times_lead": "ご都合のよい日時を押してください。",
        "times_how": "押すと、あなた専用の予約ページが開きます。日時をご確認のうえ「この日時で予約する」を押すと、"
                     "ご予約が確定します。",
        "other_days": "ほかの日時を見る",
        "pick_day": "空いている日を見る",
        "preheader_times": "ご都合のよい面接日時をお選びください（{first} ほか）",
        "facts_title": "ご予約の内容",
        "when": "日時", "where": "場所", "interviewer": "面接担当", "bring": "持ち物",
        "online": "オンライン", "join": "オンライン面接に参加する", "map": "地図を開く",
        "calendar": "カレンダーに追加",
        "actions_lead": "下のリンクから、あなた専用のページでお手続きいただけます。",
        "content_title": "私たちのことを、少しだけご紹介します",
        "phone": "私たちからのお電話は、次の番号からおかけします。",
        "page": "あなた専用のページ（ご予約・変更・キャンセル）",
        "answer": "ページで返信する",
        "answer_lead": "ご返信は、こちらのページからお願いいたします（このメールへのご返信は届きません）。",
        "no_reply": "このメールは送信専用です。ご返信いただいても届きませんので、"
                    "ご連絡はページかお電話でお願いいたします。",
        "unsubscribe": "今後のご案内が不要な場合は、配信を停止できます",
        "unsubscribe_link": "配信を停止する",
        "sent_by": "このメールは{company}の採用担当から、ご応募いただいた方にお送りしています。",
    },
    "en": {
        "subjects": {"greeting": "Thank you for applying to {company}",
                     "booked": "Your interview with {company} is booked",
                     "cancelled": "Your interview with {company} is cancelled",
                     "stopped": "You will hear no more from {company}",
                     "reminder_day_before": "Your interview with {company} is tomorrow",
                     "reminder_soon": "Your interview with {company} is soon",
                     "unconfirmed_nudge": "Will you join your interview with {company}?",
                     "": "A message from the {company} hiring team"},
        "times_title": "Choose your interview time",
        "times_lead": "Please tap the time that suits you.",
        "times_how": "It opens your own booking page. Check the time there and press \u201cBook this time\u201d to "
                     "confirm it.",
        "other_days": "See other days",
        "pick_day": "See the free days",
        "preheader_times": "Choose a time for your interview ({first} and more)",
        "facts_title": "Your interview",
        "when": "When", "where": "Where", "interviewer": "Interviewer", "bring": "Please bring",
        "online": "Online", "join": "Join the online interview", "map": "Open the map",
        "calendar": "Add to calendar",
        "actions_lead": "Use the links below; each opens your own page.",
        "content_title": "A little about us",
        "phone": "When we call you, it will be from this number:",
        "page": "Your own page (book, change or cancel)",
        "answer": "Answer on your page",
        "answer_lead": "To answer, please use your page (replies to this e-mail are not read).",
        "no_reply": "This address does not receive mail. Please reach us on your page or by phone.",
        "unsubscribe": "If you would rather not hear from us, you can stop these messages",
        "unsubscribe_link": "Stop messages",
        "sent_by": "The {company} hiring team sent you this e-mail because you applied to us.",
    },
}
