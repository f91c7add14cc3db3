"""Texts of the candidate-facing web pages (apply form, thank-you page, chat), Japanese and English."""

PAGE = {
    "ja": {
        "title": "{company} 応募フォーム",
        "lead": "ご応募いただき、ありがとうございます。送信すると、数秒でご希望の方法にご連絡いたします。",
        "job": "応募する仕事", "name": "お名前", "name_ph": "山田 花子",
        "channel": "どの方法でのご連絡をご希望ですか？",
        "line": "LINE", "sms": "SMS（ショートメッセージ）", "email": "メール",
        "phone": "携帯電話番号", "phone_ph": "090-1234-5678", "email_label": "メールアドレス",
        "email_ph": "hanako@example.com",
        "window": "連絡がつきやすい時間帯", "days": "曜日",
        "any": "いつでも", "weekdays": "平日", "weekends": "土日",
        "from": "から", "to": "まで",
        "phone_note": "お電話は {phone} からおかけします。ご登録いただけると安心です。",
        "submit": "応募する", "switch": "English",
        "errors": "入力内容をご確認ください。",
        "thanks_title": "ご応募ありがとうございます！",
        "thanks_sandbox": "最初のメッセージをお送りしました。こちらのチャットで面接の日時をお選びいただけます。",
        "open_chat": "チャットを開く",
        "thanks_line": "LINEで友だち追加のうえ、次のコードをお送りください。すぐにご案内が届きます。",
        "thanks_sent": "ご希望の方法でご連絡いたしました。届いたメッセージから面接の日時をお選びください。",
        "chat_title": "{company} 採用チャット", "say_ph": "メッセージを入力", "send": "送信",
        "field": {"name": "お名前を入力してください。", "channel": "ご希望の連絡方法をお選びください。",
                  "job": "ご応募のお仕事をお選びください。",
                  "phone": "携帯電話番号を正しく入力してください（例: 090-1234-5678）。",
                  "email": "メールアドレスを正しく入力してください。",
                  "contact_window": "連絡がつきやすい時間帯を確認してください。"},
        # The real reason, when there is one more precise than the field's own line above.
        "why": {"too_long": "{limit}文字以内で入力してください（いまは{length}文字です）。",
                "landline": "固定電話にはSMSが届きません。"
                            "携帯電話の番号を入力するか、連絡方法で「メール」を選んでください。",
                "no_sms": "フリーダイヤルやIP電話など、SMSを受け取れない番号です。"
                          "携帯電話の番号を入力するか、連絡方法で「メール」を選んでください。",
                "sms_needs_phone": "SMSでご連絡するには携帯電話番号が必要です。"
                                   "番号を入力するか、ほかの連絡方法を選んでください。",
                "email_needs_email": "メールでご連絡するにはメールアドレスが必要です。"
                                     "アドレスを入力するか、ほかの連絡方法を選んでください。"},
    },
    "en": {
        "title": "Apply to {company}",
        "lead": "Thank you for applying. When you send this form, we will contact you within seconds "
                "the way you prefer.",
        "job": "Job", "name": "Your name", "name_ph": "Hanako Yamada",
        "channel": "How would you like us to contact you?",
        "line": "LINE", "sms": "SMS (text message)", "email": "E-mail",
        "phone": "Mobile number", "phone_ph": "090-1234-5678", "email_label": "E-mail address",
        "email_ph": "hanako@example.com",
        "window": "When is it easiest to reach you?", "days": "Days",
        "any": "Any day", "weekdays": "Weekdays", "weekends": "Weekends",
        "from": "from", "to": "to",
        "phone_note": "We will call you from {phone}; saving it in your contacts helps.",
        "submit": "Apply", "switch": "日本語",
        "errors": "Please check the highlighted fields.",
        "thanks_title": "Thank you for applying!",
        "thanks_sandbox": "We have sent you our first message. You can pick your interview time in this chat.",
        "open_chat": "Open the chat",
        "thanks_line": "Add us as a friend on LINE and send this code; our message arrives right away.",
        "thanks_sent": "We have contacted you the way you chose. Pick your interview time from our message.",
        "chat_title": "{company} hiring chat", "say_ph": "Type a message", "send": "Send",
        "field": {"name": "Please enter your name.", "channel": "Please choose how we should contact you.",
                  "job": "Please choose a job.", "phone": "Please enter a valid mobile number (e.g. 090-1234-5678).",
                  "email": "Please enter a valid e-mail address.",
                  "contact_window": "Please check the contact times."},
        "why": {"too_long": "Please keep this to {limit} characters (it is {length} now).",
                "landline": "SMS can't reach a landline; please give a mobile number or choose e-mail.",
                "no_sms": "This number (toll-free, IP phone or the like) can't receive SMS; "
                          "please give a mobile number or choose e-mail.",
                "sms_needs_phone": "We need a mobile number to reach you by SMS; please add one or choose another way.",
                "email_needs_email": "We need an e-mail address to reach you by e-mail; "
                                     "please add one or choose another way."},
    },
}
