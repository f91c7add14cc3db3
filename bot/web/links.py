"""Short links that count opens (/r/<token>) and the one-click e-mail unsubscribe (/u/<signed>)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from sqlmodel import select

from bot.core.events import Start, Stop
from bot.core.vocab import KeyPurpose
from bot.db.engine import session_scope
from bot.db.models import Applicant, ShortLink
from bot.service.shortlinks import open_link, unsubscribe_token
from bot.service.turn import handle
from bot.web.common import services

bp = Blueprint("links", __name__)


def _page(title: str, heading: str, lines: list[tuple[str, bool]], action: str = "", button: str = "") -> str:
    """One of the unsubscribe pages, in the site's own style sheet (the CSP allows no inline style)."""
    return render_template("unsubscribe.html", title=title, heading=heading, action=action, button=button,
                           lines=[{"text": text, "en": en} for text, en in lines])


@bp.get("/r/<token>")
def follow(token: str):
    """Redirect to the content; a GET (not a link preview's HEAD) counts as one open."""
    if len(token) > 16:
        abort(404, "no such link")
    svc = services()
    with session_scope(svc.engine) as session:
        if request.method == "HEAD":
            url = session.exec(select(ShortLink.url).where(ShortLink.token == token)).first()
        else:
            url = open_link(session, token, svc.clock())
    if url is None:
        abort(404, "no such link")
    return redirect(url, 302)


def _applicant_id(signed: str) -> int:
    svc = services()
    token = unsubscribe_token(svc.keys.accepted(KeyPurpose.LINKS), signed)
    with session_scope(svc.engine) as session:
        applicant = session.exec(select(Applicant).where(Applicant.token == token)).first() if token else None
        if applicant is None:
            abort(404, "this unsubscribe link is not valid")
        return applicant.id


@bp.get("/u/<signed>")
def unsubscribe_page(signed: str):
    """Ask before stopping: mail scanners open links, only a person presses the button."""
    _applicant_id(signed)
    return _page("配信停止 / Unsubscribe", "配信停止 / Unsubscribe",
                 [("今後のご案内を停止しますか？", False), ("Stop all messages from us?", True)],
                 action=url_for("links.unsubscribe", signed=signed), button="配信を停止する / Stop messages")


@bp.post("/u/<signed>")
def unsubscribe(signed: str):
    """RFC 8058 one-click unsubscribe (and the page's button): the candidate opts out."""
    handle(services(), _applicant_id(signed), Stop(), source="email")
    # This address gets no more e-mail from any application; only this button (or 配信再開 in their own
    # chat) brings it back, never a new application alone: a job board may send the address on its own.
    return _page("配信停止 / Unsubscribed", "配信を停止しました",
                 [("ご連絡ありがとうございました。このメールアドレスには今後ご案内をお送りしません。", False),
                  ("You will receive no more e-mail from us. Thank you for letting us know.", True)],
                 action=url_for("links.resubscribe", signed=signed), button="配信を再開する / Resume e-mail")


@bp.post("/u/<signed>/resume")
def resubscribe(signed: str):
    """The person asks for e-mail again from the link we sent to that address: the address opts back in."""
    handle(services(), _applicant_id(signed), Start(), source="email")
    return _page("配信再開 / Resubscribed", "配信を再開しました",
                 [("このメールアドレスへのご案内を再開します。", False), ("We will e-mail you again.", True)])
