"""Saved replies: the settings' [saved_replies] parse with every mistake named by its reply, the built-in ones
are polite and use only the known fields, and filling in leaves no field behind."""
from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from bot.core import saved_replies as saved
from bot.core.settings import SettingsError, parse_settings


def demo() -> dict:
    return tomllib.loads(resources.files("bot").joinpath("default_settings.toml").read_text(encoding="utf-8"))


def test_without_the_section_the_built_in_replies_are_used():
    assert parse_settings(demo()).saved_replies == saved.DEFAULTS
    assert all(saved.problem(body) is None and "様" in body for _, body in saved.DEFAULTS)


def test_the_section_replaces_them_in_its_order():
    replies = {"お礼": "{name}様、ありがとうございます。", "面接": "面接は{interview}です。"}
    assert parse_settings(demo() | {"saved_replies": replies}).saved_replies == tuple(replies.items())


@pytest.mark.parametrize("body, why", [
    ("{名前}様", "使えない差し込み項目"), ("{name様", "対応"), ("", "must be a text"), (3, "must be a text"),
    ("あ" * 1001, "at most"),
])
def test_a_broken_reply_is_named_by_its_key(body, why):
    with pytest.raises(SettingsError) as raised:
        parse_settings(demo() | {"saved_replies": {"お礼": body}})
    assert "saved_replies.お礼" in str(raised.value) and why in str(raised.value)


def test_filling_in_replaces_every_field_and_leaves_none_behind():
    text = saved.fill("{name}様 {interview} {company} {phone}", {"name": "山田 花子", "company": "そよかぜ"})
    assert text == "山田 花子様  そよかぜ "
