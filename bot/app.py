"""The Flask app factory: routes only verify, normalise, call the service, return."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.bootstrap import Services, bootstrap, settle_after_start
from bot.channels import registry
from bot.channels.email.staff import StaffMail
from bot.core.vocab import KeyPurpose
from bot.web import (
    accesslog,
    apidoc,
    apply,
    auth,
    candidate,
    errors,
    feeds,
    funnel,
    google_signin,
    headers,
    health,
    inbox,
    intake,
    links,
    people,
    privacy,
    recruiter,
)


def create_app(test_config: dict | None = None, services: Services | None = None) -> Flask:
    """Build the app around Services (built from the environment unless a test hands them in)."""
    serving = services is None  # a real web process (tests hand their services in)
    if services is None:
        services = bootstrap()
        registry.start_web(services)  # e.g. the turns of the LINE events this process takes, right after the 200
    app = Flask(__name__)
    app.json = _JSON(app)
    app.session_interface = _Sessions()
    if services.config.trusted_proxies:  # the client's address as those proxies saw it, never what it wrote itself
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=services.config.trusted_proxies)
    https = services.config.public_base_url.startswith("https://")
    sessions = services.keys.accepted(KeyPurpose.SESSIONS)  # signs with the first; the others still read
    app.config.update(SECRET_KEY=sessions[0], SECRET_KEY_FALLBACKS=list(sessions[1:]), JSON_AS_ASCII=False,
                      SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=12),  # a working day, then sign in again
                      MAX_CONTENT_LENGTH=256 * 1024)
    app.json.ensure_ascii = False
    if test_config:
        app.config.update(test_config)
    app.extensions["sokuresu"] = services
    # Recruiters' sessions (looked up on each request) and their sign-in mail, when SMTP is set.
    auth.init_app(app, StaffMail(services.config) if services.config.smtp_url else None)
    google_signin.init_app(app, services.config)  # Google Sign-In, when an OAuth client is configured

    for module in (intake, apidoc, apply, auth, google_signin, recruiter, people, funnel, inbox, feeds, health, links,
                   candidate, privacy):
        app.register_blueprint(module.bp)
    headers.install(app, https)

    @app.before_request
    def note_route():  # for gunicorn's access log (bot/web/accesslog.py): the route, never the path with its token
        request.environ[accesslog.ROUTE_KEY] = _route()
    for blueprint in registry.blueprints():  # each channel's webhooks and pages
        app.register_blueprint(blueprint)

    # Errors: a page in the candidate's language for a browser, JSON for the APIs and scripts (bot/web/errors.py).
    errors.install(app, _route)

    if serving:
        settle_after_start()
    return app


class _Sessions(SecureCookieSessionInterface):
    """No session for a provider's webhook: nobody signs in there, and reading the cookie (a signer built and a
    signature checked) was one fortieth of the LINE webhook's CPU under load."""

    def open_session(self, app, request):
        if request.path.startswith("/webhooks/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


class _JSON(DefaultJSONProvider):
    def loads(self, s, **kw):
        try:
            value = super().loads(s, **kw)
        except RecursionError:  # [[[[…]]]]: the parser's recursion limit, not a bug of ours
            raise BadRequest("the JSON is nested too deeply") from None
        if not _unicode(value):
            raise BadRequest("the JSON holds a lone surrogate (\\ud800-\\udfff without its pair), which is no text")
        return value


def _unicode(value) -> bool:
    """Whether every string in a parsed JSON value is Unicode text. JSON's \\uXXXX escapes can spell half of a
    surrogate pair, which Python keeps as is and no database can store (found by tests/security/test_fuzz.py:
    a 500 on every field of the intake API and the chat)."""
    pending = [value]
    while pending:  # not recursive: the value may be nested nearly as deep as the parser allows
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def _route() -> str:
    """The matched route (/chat/<token>), not the path: the path holds the candidate's or recruiter's token."""
    return request.url_rule.rule if request.url_rule is not None else "(no route)"
