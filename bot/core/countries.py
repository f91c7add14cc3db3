"""The countries whose phone numbers an application may give ([protection] countries), and their names on the form."""
from __future__ import annotations

from bot.core.settings import Settings

# Names for the form's error; any other country is shown by its ISO code. (phonenumbers' geocoder has them all,
# but loading it costs ~100 MB and half a second per process.)
NAMES = {"JP": ("日本", "Japan"), "US": ("アメリカ", "the United States"), "CA": ("カナダ", "Canada"),
         "GB": ("イギリス", "the United Kingdom"), "KR": ("韓国", "South Korea"), "CN": ("中国", "China"),
         "TW": ("台湾", "Taiwan"), "HK": ("香港", "Hong Kong"), "VN": ("ベトナム", "Vietnam"),
         "PH": ("フィリピン", "the Philippines"), "ID": ("インドネシア", "Indonesia"), "TH": ("タイ", "Thailand"),
         "NP": ("ネパール", "Nepal"), "IN": ("インド", "India"), "BR": ("ブラジル", "Brazil"),
         "AU": ("オーストラリア", "Australia"), "FR": ("フランス", "France"), "DE": ("ドイツ", "Germany")}


def allowed(settings: Settings) -> tuple[str, ...]:
    """The allowed countries: [protection] countries, else the company's own."""
    return settings.protection.countries or (settings.country,)


def names(regions: tuple[str, ...]) -> dict[str, str]:
    """The countries in words, per locale: ("JP", "US") -> {"ja": "日本、アメリカ", "en": "Japan, the United States"}"""
    ja = "、".join(NAMES[r][0] if r in NAMES else r for r in regions)
    en = ", ".join(NAMES[r][1] if r in NAMES else r for r in regions)
    return {"ja": ja, "en": en}
