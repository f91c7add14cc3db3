"""The mail's two parts from one MailView: bot/templates/email/mail.html (table-based, inline styles: what Gmail and
Outlook render) and mail.txt, through Jinja with autoescaping on the HTML (candidate names are untrusted)."""
from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.channels.email.view import MailView
from bot.core.unbroken import nowrap_html, plain

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "email"
_URL = re.compile(r"https?://[^\s<>（）「」]+")


def link_end(url: str) -> str:
    """The link without what follows it in the sentence: a closing bracket it did not open ("Online (https://…)"),
    a full stop or a comma."""
    while url and (url[-1] in ".,;:!?" or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def rich(value: str, colour: str = "#1558b0") -> Markup:
    """Escaped text with its links clickable and its dates, times and phone numbers kept on one line."""
    parts, at = [], 0
    for m in _URL.finditer(value):
        found = link_end(m.group(0))
        url = html.escape(found)
        parts += [nowrap_html(html.escape(value[at:m.start()]), inline_style=True),
                  f'<a href="{url}" style="color:{html.escape(colour)};word-break:break-all">{url}</a>']
        at = m.start() + len(found)
    parts.append(nowrap_html(html.escape(value[at:]), inline_style=True))
    return Markup("".join(parts))


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(rich=rich, plain=plain)
    return env


def html_part(view: MailView) -> str:
    return environment().get_template("mail.html").render(v=view, t=view.t)


def text_part(view: MailView) -> str:
    text = environment().get_template("mail.txt").render(v=view, t=view.t)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
