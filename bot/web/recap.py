"""What the thank-you page says back: where we wrote (masked), and the links that open LINE with the code typed."""
from __future__ import annotations

import re
from urllib.parse import quote

import phonenumbers
import segno

from bot.service.refusals import mask

HOME_REGION = "JP"


def masked_phone(e164: str) -> str:
    """A number the candidate recognises as theirs and a stranger cannot call: 090-****-5678 for a Japanese
    number, +1 ***-***-2671 for another (every group of digits hidden but the first and the last)."""
    try:
        number = phonenumbers.parse(e164, HOME_REGION)
    except phonenumbers.NumberParseException:
        return mask(e164) or ""
    style = (phonenumbers.PhoneNumberFormat.NATIONAL if phonenumbers.region_code_for_number(number) == HOME_REGION
             else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    groups = re.split(r"([^\d]+)", phonenumbers.format_number(number, style))
    digits = [i for i, part in enumerate(groups) if part.isdigit()]
    if len(digits) < 3:  # no middle group to hide: the refusals' mask keeps a prefix and two digits
        return mask(e164) or ""
    for i in digits[1:-1]:
        groups[i] = "*" * len(groups[i])
    return "".join(groups)


def masked_address(column: str, address: str | None) -> str:
    """The address we wrote to, masked: a phone as above, an e-mail as h•••@example.com (bot.service.refusals)."""
    if not address:
        return ""
    return masked_phone(address) if column == "phone" else mask(address) or ""


def add_friend_url(basic_id: str) -> str:
    """LINE's add-friend link for the account (@xxxx)."""
    return f"https://line.me/R/ti/p/{quote(basic_id, safe='')}"


def message_url(basic_id: str, code: str) -> str:
    """LINE's link that opens a chat with the account with the code already typed, ready to send."""
    return f"https://line.me/R/oaMessage/{quote(basic_id, safe='')}/?{quote(code, safe='')}"


def qr_data_uri(url: str) -> str:
    """The link as a QR code (an SVG data: URI, which the CSP's img-src allows) for a visitor on a computer."""
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#1f2933")
