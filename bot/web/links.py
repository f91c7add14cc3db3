"""Short links that count opens (/r/<token>) and the one-click e-mail unsubscribe (/u/<signed>)."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request
from markupsafe import escape
from sqlmodel import select

from bot.core.events import Start, Stop
from bot.db.engine import session_scope
from bot.db.models import Applicant, ShortLink
from bot.service.shortlinks import open_link, unsubscribe_token
from bot.service.turn import handle
from bot.web.common import services

bp = Blueprint("links", __name__)
PAGE = ('<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title></head>'
        '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">{body}</body></html>')


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
    token = unsubscribe_token(svc.config.secret_key, signed)
    with session_scope(svc.engine) as session:
        applicant = session.exec(select(Applicant).where(Applicant.token == token)).first() if token else None
        if applicant is None:
            abort(404, "this unsubscribe link is not valid")
        return applicant.id


@bp.get("/u/<signed>")
def unsubscribe_page(signed: str):
    """Ask before stopping: mail scanners open links, only a person presses the button."""
    _applicant_id(signed)
    body = ('<h1>配信停止 / Unsubscribe</h1><p>今後のご案内を停止しますか？<br>Stop all messages from us?</p>'
            '<form method="post"><button style="font-size:1.1rem;padding:.6rem 1.2rem">'
            '配信を停止する / Stop messages</button></form>')
    return PAGE.format(title="配信停止 / Unsubscribe", body=body)


@bp.post("/u/<signed>")
def unsubscribe(signed: str):
    """RFC 8058 one-click unsubscribe (and the page's button): the candidate opts out."""
    handle(services(), _applicant_id(signed), Stop(), source="email")
    # This address gets no more e-mail from any application; only this button (or 配信再開 in their own
    # chat) brings it back, never a new application alone: a job board may send the address on its own.
    body = ('<h1>配信を停止しました</h1>'
            '<p>ご連絡ありがとうございました。このメールアドレスには今後ご案内をお送りしません。</p>'
            '<p lang="en">You will receive no more e-mail from us. Thank you for letting us know.</p>'
            '<form method="post" action="{action}"><button>配信を再開する / Resume e-mail</button></form>')
    return PAGE.format(title="配信停止 / Unsubscribed", body=body.format(action=f"/u/{escape(signed)}/resume"))


@bp.post("/u/<signed>/resume")
def resubscribe(signed: str):
    """The person asks for e-mail again from the link we sent to that address: the address opts back in."""
    handle(services(), _applicant_id(signed), Start(), source="email")
    body = ('<h1>配信を再開しました</h1><p>このメールアドレスへのご案内を再開します。</p>'
            '<p lang="en">We will e-mail you again.</p>')
    return PAGE.format(title="配信再開 / Resubscribed", body=body)
