"""Which valid phone numbers an SMS can reach: the check /apply and the API run when a candidate chooses SMS."""
from __future__ import annotations

import phonenumbers

from bot.service.intake import Problem

_TYPE = phonenumbers.PhoneNumberType
# The numbers an SMS may reach. "Fixed line or mobile" (all of +1, and others) cannot be told apart, so it is let
# through, as is a valid number of no known type; Twilio refuses every other type with error 21614.
_SMS_TYPES = (_TYPE.MOBILE, _TYPE.FIXED_LINE_OR_MOBILE, _TYPE.UNKNOWN)
_NO_SMS = {_TYPE.TOLL_FREE: "toll-free", _TYPE.PREMIUM_RATE: "premium-rate", _TYPE.SHARED_COST: "shared-cost",
           _TYPE.VOIP: "IP phone (VoIP)", _TYPE.PERSONAL_NUMBER: "personal (forwarding)", _TYPE.PAGER: "pager",
           _TYPE.UAN: "universal access (navi-dial)", _TYPE.VOICEMAIL: "voicemail"}


def sms_problem(e164: str) -> Problem | None:
    """Why no SMS can reach this number (a landline, 0120, 050…), or None when one may."""
    kind = phonenumbers.number_type(phonenumbers.parse(e164))
    if kind in _SMS_TYPES:
        return None
    if kind == _TYPE.FIXED_LINE:
        return Problem("is a landline: SMS can't reach a landline; please give a mobile number or choose e-mail",
                       "landline")
    return Problem(f"is a {_NO_SMS.get(kind, 'non-mobile')} number: SMS can't reach it; please give a mobile number "
                   "or choose e-mail", "no_sms")
