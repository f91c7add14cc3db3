"""SMS through Twilio: the adapter (the only module importing twilio), the webhooks (replies, delivery reports),
the wording within a segment budget, and the one-way mode with links to the candidate's page."""
from __future__ import annotations

from bot.channels.plugin import ChannelPlugin
from bot.channels.sms import payload, webhook
from bot.channels.sms.adapter import SmsChannel
from bot.channels.sms.numbers import call_problem, region_of, sms_problem
from bot.core.channelinfo import ChannelInfo, FormField
from bot.service.intake import normalise_phone

PHONE = FormField("phone", "tel", "tel", label={"ja": "携帯電話番号", "en": "Mobile number"},
                  placeholder={"ja": "090-1234-5678", "en": "090-1234-5678"},
                  hint={"ja": "携帯電話番号を正しく入力してください（例: 090-1234-5678）。",
                        "en": "Please enter a valid mobile number (e.g. 090-1234-5678)."})
PROBLEMS = {
    "ja": {"landline": "固定電話にはSMSが届きません。"
                       "携帯電話の番号を入力するか、連絡方法で「メール」を選んでください。",
           "no_sms": "フリーダイヤルやIP電話など、SMSを受け取れない番号です。"
                     "携帯電話の番号を入力するか、連絡方法で「メール」を選んでください。",
           "sms_needs_phone": "SMSでご連絡するには携帯電話番号が必要です。"
                              "番号を入力するか、ほかの連絡方法を選んでください。",
           "costly_number": "有料番号（0990・0570など）にはご連絡できません。ご本人の電話番号を入力してください。"},
    "en": {"landline": "SMS can't reach a landline; please give a mobile number or choose e-mail.",
           "no_sms": "This number (toll-free, IP phone or the like) can't receive SMS; "
                     "please give a mobile number or choose e-mail.",
           "sms_needs_phone": "We need a mobile number to reach you by SMS; please add one or choose another way.",
           "costly_number": "We can't text or call a premium-rate or shared-cost number; please give your own number."},
}
INFO = ChannelInfo(
    "sms", label={"ja": "SMS", "en": "SMS"}, address_field="phone", address_length=40,
    normalise_address=normalise_phone, check_address=sms_problem, screen_address=call_problem, region_of=region_of,
    problems=PROBLEMS,
    offered={"ja": "SMS（ショートメッセージ）", "en": "SMS (text message)"}, form_field=PHONE, fallback_rank=2,
    payload_keys=("sms", "segments"),
    stopped_labels={"stop_word": "SMS停止中 (STOP {date})", "carrier": "SMS停止中 (通信会社でSTOP {date})"})

PLUGIN = ChannelPlugin(INFO, configured=lambda config: config.sms_enabled, adapter=SmsChannel,
                       blueprints=(webhook.bp,), prepare=payload.prepare_sms)
