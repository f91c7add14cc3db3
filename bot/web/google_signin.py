"""Google Sign-In (OpenID Connect, authorization code with PKCE) through authlib, the only module importing it.

On when GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are set (an OAuth client of type "Web application" whose
redirect URI is {PUBLIC_BASE_URL}/recruiter/sign-in/google/callback). authlib checks the id_token's signature
against the provider's keys, its issuer, audience, expiry and nonce; we then ask for a verified address, and
sign in the account with that address (there is no sign-up: an unknown address is refused).
"""
from __future__ import annotations

import logging

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, abort, current_app
from joserfc.errors import JoseError
from requests import RequestException

from bot.service import accounts
from bot.web.auth import page, start
from bot.web.common import services

bp = Blueprint("google_signin", __name__, url_prefix="/recruiter/sign-in/google")
log = logging.getLogger("sokuresu.web")
GOOGLE_DISCOVERY = "https://accounts.google.com/.well-known/openid-configuration"
TIMEOUT = 10  # seconds for each call to the provider


def init_app(app, config) -> None:
    """Register the provider when a client is configured (nothing is fetched until someone signs in)."""
    if not (config.google_client_id and config.google_client_secret):
        return
    oauth = OAuth(app)
    oauth.register("google", client_id=config.google_client_id, client_secret=config.google_client_secret,
                   server_metadata_url=config.google_discovery_url or GOOGLE_DISCOVERY,
                   client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256",
                                  "default_timeout": TIMEOUT})


def _client():
    oauth = current_app.extensions.get("authlib.integrations.flask_client")
    if oauth is None:
        abort(404, "Google Sign-In is not configured")
    return oauth.google


@bp.get("")
def begin():
    redirect_uri = f"{services().config.public_base_url}/recruiter/sign-in/google/callback"
    try:
        return _client().authorize_redirect(redirect_uri, prompt="select_account")
    except (AuthlibBaseError, RequestException, ValueError) as exc:  # the discovery document did not come
        log.warning("Google Sign-In could not start: %s", type(exc).__name__)
        return page("form", 502, google_failed=True)


@bp.get("/callback")
def callback():
    try:
        token = _client().authorize_access_token()
    except (AuthlibBaseError, JoseError, RequestException, ValueError, KeyError, TypeError) as exc:
        log.warning("Google Sign-In refused: %s", type(exc).__name__)  # a wrong state, a bad token, no answer
        return page("form", 400, google_failed=True)
    claims = token.get("userinfo") or {}
    if not claims.get("email") or claims.get("email_verified") is not True:
        return page("unknown", 403)
    signed = accounts.sign_in_verified(services(), claims["email"], "google")
    if signed is None:
        return page("unknown", 403)
    return start(*signed)
