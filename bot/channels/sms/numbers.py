"""Which valid phone numbers we may text or call: the checks /apply and the API run on a candidate's phone.

Premium-rate and shared-cost numbers (and their kin) are what SMS pumping targets, and a recruiter's call to one
costs the company too: no application may give one. An SMS goes only to a mobile number: a Japanese 050 number is
an IP phone (an app over the internet, no SMS centre behind it), 0120/0800 are toll-free lines, 020 pagers and IoT
lines; none reaches a candidate's handset by SMS. Where the numbering plan cannot tell mobile from fixed (all of
+1), the number is let through: Twilio refuses a landline it knows (21614/21635).
"""
from __future__ import annotations

import phonenumbers

from bot.core.settings import Settings
from bot.core.vocab import RefusalReason
from bot.service.intake import Problem

_TYPE = phonenumbers.PhoneNumberType
_SMS_TYPES = (_TYPE.MOBILE, _TYPE.FIXED_LINE_OR_MOBILE)
# Dear to reach, for a text or a call: refused whatever channel the candidate chose.
_COSTLY = {_TYPE.PREMIUM_RATE: "premium-rate", _TYPE.SHARED_COST: "shared-cost",
           _TYPE.PERSONAL_NUMBER: "personal (forwarding)", _TYPE.UAN: "universal access (navi-dial)"}
# Cheap to call, but no SMS reaches a person there; let through for SMS only without [protection] sms_mobile_only.
_NO_SMS = {_TYPE.TOLL_FREE: "toll-free", _TYPE.VOIP: "IP phone (VoIP)", _TYPE.PAGER: "pager",
           _TYPE.VOICEMAIL: "voicemail", _TYPE.UNKNOWN: "non-mobile"}
_CHOOSE = "please give a mobile number or choose e-mail"


def _kind(e164: str) -> int:
    return phonenumbers.number_type(phonenumbers.parse(e164))


def call_problem(e164: str) -> Problem | None:
    """Why no application may give this number (premium-rate, shared-cost, ...), or None."""
    if (kind := _kind(e164)) in _COSTLY:
        return Problem(f"is a {_COSTLY[kind]} number, which we neither text nor call; please give your own number",
                       "costly_number", refused=RefusalReason.NUMBER_TYPE)
    return None


def sms_problem(e164: str, settings: Settings) -> Problem | None:
    """Why no SMS may go to this number (a landline, 0120, 050…), or None when one may."""
    kind = _kind(e164)
    if kind in _SMS_TYPES or (kind in _NO_SMS and not settings.protection.sms_mobile_only):
        return None
    if kind == _TYPE.FIXED_LINE:
        return Problem(f"is a landline: SMS can't reach a landline; {_CHOOSE}", "landline",
                       refused=RefusalReason.NUMBER_TYPE)
    what = _NO_SMS.get(kind) or _COSTLY.get(kind, "non-mobile")
    return Problem(f"is a {what} number: SMS can't reach it; {_CHOOSE}", "no_sms", refused=RefusalReason.NUMBER_TYPE)


def region_of(e164: str) -> str | None:
    """The ISO country of a number (+81… -> JP), None when it belongs to none (+800, +882…)."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(e164))
    return None if region in (None, "ZZ", "001") else region
