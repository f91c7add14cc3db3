"""Error answers: a page in the candidate's language for a browser, JSON for API clients and the pages' scripts."""
from __future__ import annotations

import logging
import re

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from bot.core.messages import phone_for
from bot.web.common import locale, services
from bot.web.guard import wait_words

log = logging.getLogger("sokuresu.web")

# Answered in JSON whatever the Accept header says: the APIs, the webhooks, and what the pages' scripts fetch.
JSON_PATHS = re.compile(r"^/(?:api|webhooks)/|^/chat/[^/]+/(?:messages|say)$|^/apply/challenge$"
                        r"|^/recruiter/inbox/stamp$|^/healthz$")
# Links we send to candidates (and the recruiters' mailed ones): a 403, 404 or 410 there is a broken or expired link.
LINKS = re.compile(r"^/(?:chat|c|u|r|apply/thanks|booking|calendar)/|^/recruiter/(?:outcome|sign-in|login)/")
DB_DOWN_WAIT = 30  # seconds: Retry-After when the database is not answering

TEXTS = {
    "ja": {
        "link": ("このリンクは使えなくなっています",
                 "有効期限が切れたか、アドレスの一部が欠けているようです。お手数ですが、{company}までお電話ください。"
                 "担当者がご案内いたします。"),
        400: ("うまく受け付けられませんでした", "ページを読み込み直してから、もう一度お試しください。"),
        401: ("サインインが必要です", "このページを見るには、サインインしてください。"),
        403: ("このページは開けません",
              "このページを開く権限がありません。ご不明な点は{company}までお問い合わせください。"),
        404: ("ページが見つかりません",
              "アドレスに誤りがないかご確認ください。お困りの際は{company}までお電話ください。"),
        405: ("このページではその操作ができません", "ひとつ前のページに戻って、もう一度お試しください。"),
        410: ("このページは終了しました", "ご不明な点は{company}までお電話ください。"),
        413: ("送られた内容が大きすぎます", "内容を短くしてから、もう一度お送りください。"),
        429: ("ただいまアクセスが集中しています", "{wait}ほどたってから、もう一度お試しください。"
                                               "お急ぎの方は{company}までお電話ください。"),
        500: ("申し訳ありません。うまく処理できませんでした", "内容は保存されていません。少し時間をおいてから、"
                                                       "もう一度お試しください。"),
        503: ("ただいま混み合っています", "少し時間をおいてから、もう一度お試しください。"),
        "other": ("うまく表示できませんでした", "少し時間をおいてから、もう一度お試しください。"),
        "a_moment": "少し", "phone": "お問い合わせ先", "code": "エラーコード", "switch": "English", "call": "電話する",
    },
    "en": {
        "link": ("This link no longer works",
                 "It may have expired, or part of the address may be missing. Please call {company} and we will "
                 "help you from there."),
        400: ("We could not accept that", "Please reload the page and try again."),
        401: ("Please sign in", "You need to sign in to see this page."),
        403: ("This page is not open to you", "Your account cannot open this page. If this seems wrong, please "
                                              "contact {company}."),
        404: ("We could not find this page", "Please check the address. If you need help, please call {company}."),
        405: ("This page cannot do that", "Please go back to the previous page and try again."),
        410: ("This page has closed", "If you have any questions, please call {company}."),
        413: ("What was sent is too large", "Please shorten it and send it again."),
        429: ("We are receiving many requests just now", "Please try again in about {wait}. If it is urgent, "
                                                         "please call {company}."),
        500: ("Sorry, something went wrong on our side", "Nothing was saved. Please try again in a moment."),
        503: ("We are briefly unavailable", "Please try again in a moment."),
        "other": ("This page could not be shown", "Please try again in a moment."),
        "a_moment": "a minute", "phone": "Contact", "code": "Error code", "switch": "日本語", "call": "Call",
    },
}


def wants_json() -> bool:
    """JSON for the APIs, webhooks and scripts, and for a client that prefers it; a page for a browser."""
    if JSON_PATHS.search(request.path) or request.is_json:
        return True
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"], "text/html") != "text/html"


def _locale() -> str:
    try:
        return locale()
    except HTTPException:  # a 413: the form cannot be read to find its lang, so the URL and the browser decide
        return request.accept_languages.best_match(["ja", "en"]) or "ja"


def page(status: int, headers: dict | None = None, retry_after: int | None = None):
    """The error page for `status`, in the candidate's language, with the company's name and number."""
    loc = _locale()
    t = TEXTS[loc]
    key = "link" if status in (403, 404, 410) and LINKS.search(request.path) else status
    heading, advice = t.get(key, t["other"])
    company = services().settings.company
    wait = wait_words(retry_after, loc) if retry_after else t["a_moment"]
    # The advice is escaped by the template; the name and number are slotted in there, each kept on one line.
    before, _, after = advice.partition("{company}")
    html = render_template("error.html", loc=loc, t=t, status=status, heading=heading,
                           before=before.format(wait=wait), after=after.format(wait=wait),
                           has_company="{company}" in advice, company=company.name.get(loc) or company.name.ja,
                           phone=phone_for(company.phone, None, loc),
                           switch=f"{request.path}?lang={'en' if loc == 'ja' else 'ja'}" if request.method == "GET"
                           else None)
    return html, status, headers or {}


def _headers(exc: HTTPException) -> dict:
    """The exception's own headers (Allow on a 405, Retry-After on a 429), less its HTML content type."""
    return {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}


def _seconds(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def install(app: Flask, route) -> None:
    """Answer every error through here: same status and headers, a page or JSON by what the client asked for."""

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = _headers(exc)
        if wants_json():
            return jsonify(error=exc.name, reason=exc.description), exc.code, headers
        return _safely(lambda: page(exc.code, headers, _seconds(headers.get("Retry-After"))), exc.code, headers)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def database_down(exc: Exception):
        # Retryable: LINE, Twilio and job boards send again later, and nothing was half-written.
        log.error("database unavailable on %s %s: %s", request.method, route(), type(exc).__name__)
        headers = {"Retry-After": str(DB_DOWN_WAIT)}
        if wants_json():
            return (jsonify(error="Service Unavailable",
                            reason="the database is not answering; please try again shortly"), 503, headers)
        return _safely(lambda: page(503, headers), 503, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # never a bare 500 page; the log keeps the trace (no request body)
        log.exception("unhandled error on %s %s", request.method, route())
        if wants_json():
            return jsonify(error="Internal Server Error",
                           reason="something went wrong on our side; nothing was saved"), 500
        return _safely(lambda: page(500), 500)


def _safely(render, status: int, headers: dict | None = None):
    """The page, or (should drawing it fail too) a line of plain text with the same status: it must never raise."""
    try:
        return render()
    except Exception:
        log.exception("the error page itself failed on %s %s", request.method, status)
        return f"Error {status}", status, {**(headers or {}), "Content-Type": "text/plain; charset=utf-8"}
