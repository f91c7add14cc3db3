"""Small helpers shared by the blueprints."""
from __future__ import annotations

from flask import current_app, request

from bot.service.deps import Services


def services() -> Services:
    return current_app.extensions["sokuresu"]


def locale() -> str:
    """?lang=en wins, then the browser's preference; Japanese by default."""
    lang = request.args.get("lang") or request.form.get("lang")
    if lang in ("ja", "en"):
        return lang
    best = request.accept_languages.best_match(["ja", "en"])
    return best or "ja"
