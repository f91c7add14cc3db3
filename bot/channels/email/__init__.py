"""E-mail over SMTP (smtplib): an HTML mail with its plain-text twin (view.py, render.py, templates/email/), the
brand and booking facts added when the row is written (prepare.py), and the calendar invitation."""
from __future__ import annotations

import re

from bot.channels.email.adapter import MailChannel
from bot.channels.email.prepare import prepare_email
from bot.channels.plugin import ChannelPlugin
from bot.core.channelinfo import ChannelInfo, FormField

_ADDRESS = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")


def check_syntax(address: str) -> str:
    """The address as typed when it looks like an e-mail address; ValueError otherwise."""
    if not _ADDRESS.match(address):
        raise ValueError("is not an e-mail address")
    return address


FIELD = FormField("email", "email", "email", label={"ja": "メールアドレス", "en": "E-mail address"},
                  placeholder={"ja": "hanako@example.com", "en": "hanako@example.com"},
                  hint={"ja": "メールアドレスを正しく入力してください。", "en": "Please enter a valid e-mail address."})
PROBLEMS = {"ja": {"email_needs_email": "メールでご連絡するにはメールアドレスが必要です。"
                                       "アドレスを入力するか、ほかの連絡方法を選んでください。"},
            "en": {"email_needs_email": "We need an e-mail address to reach you by e-mail; "
                                        "please add one or choose another way."}}
# Without SMTP a fallback to e-mail still reaches the candidate, in the sandbox chat (the demo).
INFO = ChannelInfo(
    "email", label={"ja": "メール", "en": "E-mail"}, address_field="email", address_length=320,
    normalise_address=check_syntax, problems=PROBLEMS, address_key=str.lower, offered={"ja": "メール", "en": "E-mail"},
    form_field=FIELD, fallback_rank=1, falls_back_to_stand_in=True,
    stopped_labels={"unsubscribed": "メール配信停止中 (配信停止リンク {date})",
                    "stop_word": "メール配信停止中 (配信停止 {date})"})

PLUGIN = ChannelPlugin(INFO, configured=lambda config: bool(config.smtp_url), adapter=MailChannel,
                       prepare=prepare_email)
