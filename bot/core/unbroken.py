"""Dates, times and phone numbers that never break across lines on a phone."""
from __future__ import annotations

import re

NBSP, WJ = "\u00a0", "\u2060"  # no-break space; word joiner (no break after a dash: 14:00〜⁠14:30)
# 12月3日(木) 14:00〜14:30 · Thu 3 Dec, 14:00–14:30 · 14:00 · 03-6820-1234 · +81 90 1234 5678
KEEP_TOGETHER = re.compile(
    r"\d{1,2}月\d{1,2}日(?:\([月火水木金土日]\))?(?:[ \u00a0]?\d{1,2}:\d{2}(?:[〜–~-]\u2060?\d{1,2}:\d{2})?)?"
    r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[ \u00a0]\d{1,2}[ \u00a0][A-Z][a-z]{2}(?:,[ \u00a0]\d{1,2}:\d{2}"
    r"(?:[〜–~-]\u2060?\d{1,2}:\d{2})?)?"
    r"|\d{1,2}:\d{2}(?:[〜–~-]\u2060?\d{1,2}:\d{2})?"
    r"|\+?\d[\d\- ]{6,}\d")


def plain(text: str) -> str:
    """The text without the invisible no-break marks (for SMS, where they would cost a whole encoding)."""
    return text.replace(NBSP, " ").replace(WJ, "")


def nowrap_html(escaped: str, inline_style: bool = False) -> str:
    """Wrap each date, time and phone number of already-escaped HTML in a span that does not wrap."""
    tag = '<span style="white-space:nowrap">' if inline_style else '<span class="nowrap">'
    return KEEP_TOGETHER.sub(lambda m: f"{tag}{m.group(0)}</span>", escaped)
