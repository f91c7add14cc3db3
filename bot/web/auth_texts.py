"""The words of the sign-in pages (Japanese, and English for the switch) and of the sign-in mail (both in one)."""
from __future__ import annotations

PAGE = {
    "ja": {
        "switch": "English", "title": "担当者サインイン",
        "lead": "ご登録のメールアドレスを入力してください。サインイン用のリンクをメールでお送りします。",
        "email": "メールアドレス", "send": "サインイン用のリンクを送る",
        "or": "または", "google": "Googleアカウントでサインイン",
        "no_mail": "このサーバーからはメールを送信できないため、リンクをお送りできません。"
                   "お手数ですが、管理者にサインイン用のリンクの発行をご依頼ください。",
        "sent_title": "メールをご確認ください",
        "sent": "{email} がご登録のアドレスでしたら、サインイン用のリンクをお送りしました。"
                "リンクは15分間、1回だけお使いいただけます。",
        "sent_hint": "数分たっても届かない場合は、迷惑メールフォルダをご確認いただくか、もう一度お試しください。",
        "confirm_title": "サインインしますか？",
        "confirm": "下のボタンを押すと、この端末でサインインします。",
        "confirm_button": "サインインする",
        "confirm_why": "メールのセキュリティ機能がリンクを先に開いても無効にならないよう、"
                       "ボタンでの確認をお願いしています。",
        "invalid_title": "このリンクはお使いいただけません",
        "invalid": "リンクの有効期限（15分）が過ぎたか、すでに使われています。"
                   "お手数ですが、新しいリンクをお受け取りください。",
        "again": "新しいリンクを受け取る",
        "unknown_title": "サインインできませんでした",
        "unknown": "このGoogleアカウントのメールアドレスは登録されていません。"
                   "お手数ですが、管理者にご招待をご依頼ください。",
        "google_failed": "Googleでのサインインを完了できませんでした。お手数ですが、もう一度お試しください。",
        "bad_email": "メールアドレスの形式をご確認ください。",
    },
    "en": {
        "switch": "日本語", "title": "Sign in",
        "lead": "Enter the e-mail address you were invited with, and we will send you a sign-in link.",
        "email": "E-mail address", "send": "Send me a sign-in link",
        "or": "or", "google": "Sign in with Google",
        "no_mail": "This server cannot send e-mail, so no link can be sent from here. "
                   "Please ask your administrator for a sign-in link.",
        "sent_title": "Check your e-mail",
        "sent": "If {email} has an account, a sign-in link is on its way. It works once, within 15 minutes.",
        "sent_hint": "Nothing after a few minutes? Look in your spam folder, or try again.",
        "confirm_title": "Sign in?",
        "confirm": "Press the button to sign in on this device.",
        "confirm_button": "Sign in",
        "confirm_why": "The button keeps the link working when your mail's security scanner opens it first.",
        "invalid_title": "This link cannot be used",
        "invalid": "It was used already, or its 15 minutes are over. Please ask for a new one.",
        "again": "Get a new link",
        "unknown_title": "You could not be signed in",
        "unknown": "This Google account's address is not registered. Please ask your administrator to invite you.",
        "google_failed": "Signing in with Google did not complete. Please try again.",
        "bad_email": "Please check the e-mail address.",
    },
}

MAIL_SUBJECT = "【{company}】採用管理画面へのサインイン用リンク / Your sign-in link"
MAIL_OPENING = {False: "{company}の採用管理画面（Sokuresu）へのサインイン用リンクをお送りします。",
                True: "{company}の採用管理画面（Sokuresu）にご招待いたします。サインイン用のリンクをお送りします。"}
MAIL_BODY = """{name} 様

{opening}
下のリンクを開き、「サインインする」ボタンを押してください。

{link}

このリンクは15分間、1回だけお使いいただけます。期限が切れた場合は、こちらから新しいリンクをお受け取りいただけます。
{sign_in}

お心当たりのない場合は、このメールを破棄してください。リンクは使われないまま無効になります。

--
Your sign-in link for {company}'s recruiting workspace (Sokuresu). Open it and press "Sign in".
It works once, within 15 minutes; for a new one, go to the sign-in page above.
If you did not ask for it, you can ignore this e-mail.
"""


def mail(company: str, name: str, link: str, sign_in: str, invited: bool = False) -> tuple[str, str]:
    """The subject and text of a sign-in mail."""
    body = MAIL_BODY.format(name=name or "ご担当者", company=company, link=link, sign_in=sign_in,
                            opening=MAIL_OPENING[invited].format(company=company))
    return MAIL_SUBJECT.format(company=company), body
