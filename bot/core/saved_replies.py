"""Saved replies: their fields ({name}, {interview}, {company}, {phone}), the built-in ones, and filling them in.

Pure: the settings parse them, admins edit them (bot.service.replies keeps the edited list), the inbox fills one
in for a candidate before a person sends it.
"""
from __future__ import annotations

from string import Formatter

FIELDS = {"name": "お名前", "interview": "面接の日時", "company": "会社名", "phone": "お電話する番号"}
MAX_TITLE, MAX_BODY = 80, 1000

# Written for candidates: polite (keigo), no reply asked on a channel that cannot carry one (the inbox adds the
# link to the candidate's page where they cannot reply).
DEFAULTS: tuple[tuple[str, str], ...] = (
    ("受付のお礼", "{name}様\n{company}採用担当でございます。ご連絡いただき、誠にありがとうございます。"
     "内容を確認のうえ、改めてご連絡いたします。今しばらくお待ちくださいませ。"),
    ("面接日時のご案内", "{name}様\n{company}採用担当でございます。面接は{interview}にてご予約を承っております。"
     "当日お目にかかれることを楽しみにしております。"),
    ("お電話のご案内", "{name}様\n{company}採用担当でございます。詳しくはお電話でご説明できれば幸いです。"
     "{phone}からおかけいたしますので、ご都合のよい時間帯をお知らせいただけますでしょうか。"),
    ("日程のご相談", "{name}様\n{company}採用担当でございます。ご希望の日時で調整いたしますので、"
     "ご都合のよい日時を2〜3つお知らせいただけますでしょうか。"),
)


def problem(body: str) -> str | None:
    """Why a saved reply's text cannot be used (a field nobody fills, a stray brace), or None."""
    try:
        names = [field for _, field, _, _ in Formatter().parse(body) if field is not None]
    except ValueError:
        return "「{」と「}」の対応が取れていません (unbalanced braces)"
    unknown = [n for n in names if n not in FIELDS]
    if unknown:
        known = ", ".join("{" + f + "}" for f in FIELDS)
        return f"使えない差し込み項目 {{{unknown[0]}}}: 使えるのは {known} です (unknown field)"
    return None


def fill(body: str, values: dict[str, str]) -> str:
    """The text with each field replaced (an empty value where nothing is known, e.g. no interview yet)."""
    return body.format_map({name: values.get(name, "") for name in FIELDS})
