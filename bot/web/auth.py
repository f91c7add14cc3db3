"""Signing in and out of the recruiter workspace: the e-mail link form, the link's page, sign-out, and who may
open which page (flask-login sessions backed by bot.service.accounts).

A sign-in link opens a page with a button, and only that button's POST spends the link: mail security
scanners (Microsoft Defender Safe Links, Proofpoint, Mimecast and the like) open every link of an incoming mail
with a GET, some in a full browser that runs scripts, but none submits a form. A link that signed in on GET
would arrive spent.
"""
from __future__ import annotations

import logging
import threading
from functools import wraps

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from bot.core.transport import PermanentError, TemporaryError
from bot.core.vocab import Role
from bot.service import accounts
from bot.service.accounts import Person
from bot.web import auth_texts
from bot.web.common import locale, services
from bot.web.security import check_csrf, csrf_token

bp = Blueprint("auth", __name__, url_prefix="/recruiter")
log = logging.getLogger("sokuresu.web")
MAILER = "sokuresu.staff_mail"  # app.extensions key: a bot.channels.email.staff.StaffMail, or None without SMTP
ROLE_LABELS = {Role.ADMIN: "管理者", Role.RECRUITER: "採用担当", Role.INTERVIEWER: "面接官"}
ROLE_LABELS_EN = {Role.ADMIN: "admin", Role.RECRUITER: "recruiter", Role.INTERVIEWER: "interviewer"}


class Signed(UserMixin):
    """flask-login's user: the person, and the session token their cookie carries (never stored as is)."""

    def __init__(self, person: Person, token: str):
        self.person, self.token = person, token

    def get_id(self) -> str:
        return self.token


def init_app(app, mailer=None) -> None:
    """Sessions for the app (each request looks its session up: an ended one is signed out at once)."""
    manager = LoginManager(app)
    manager.user_loader(_load)
    manager.unauthorized_handler(_unauthorized)
    app.extensions[MAILER] = mailer
    app.add_template_global(who, "signed_in")  # for the bar above the recruiter's pages
    app.add_template_global(lambda role: (ROLE_LABELS_EN if locale() == "en" else ROLE_LABELS).get(role, role),
                            "role_label")
    app.add_template_global(locale, "page_locale")  # the staff bar speaks the page's language


def _load(token: str) -> Signed | None:
    person = accounts.signed_in(services(), token)
    return Signed(person, token) if person is not None else None


def _unauthorized():
    if request.method == "GET":
        session["next"] = request.path  # back here after signing in (our own path only)
        return redirect(url_for("auth.sign_in"))
    abort(401, "please sign in first")


def who() -> Person | None:
    """The person signed in on this request, if any."""
    return current_user.person if current_user.is_authenticated else None


def staff_only(*roles: Role):
    """Only for a signed-in person, of one of these roles when given (403 for the others)."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if roles and current_user.person.role not in roles:
                abort(403, "your role does not open this page")
            return view(*args, **kwargs)
        return wrapped
    return decorate


def page(mode: str, status: int = 200, **extra):
    """The sign-in page in one of its states (form, sent, confirm, invalid, unknown), in the reader's language."""
    loc = locale()
    svc = services()
    return render_template("sign_in.html", mode=mode, t=auth_texts.PAGE[loc], loc=loc, csrf=csrf_token(),
                           company=svc.settings.company.name.get(loc) or svc.settings.company.name.get("ja"),
                           can_mail=current_app.extensions.get(MAILER) is not None,
                           google=bool(svc.config.google_client_id), **extra), status


@bp.get("/sign-in")
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("recruiter.index"))
    return page("form")


@bp.post("/sign-in")
def request_link():
    """Mail a link if the address has an account; the answer is the same either way, and as quick (the mail goes
    out after it), so the form tells nobody who has an account."""
    check_csrf()
    email = request.form.get("email", "").strip()
    if not accounts.looks_like_email(email):
        return page("form", 400, error=True, email=email)
    mailer = current_app.extensions.get(MAILER)
    if mailer is not None:
        svc = services()
        issued = accounts.request_link(svc, email)
        if issued is not None:
            account, link = issued
            threading.Thread(target=send_link, args=(mailer, svc, account, link), name="sign-in-mail",
                             daemon=True).start()
    return page("sent", email=email)


def send_link(mailer, svc, account, link: str, invited: bool = False) -> bool:
    """Mail a sign-in link to its person; False (and a log line without the address) when it could not go."""
    name = accounts.person(svc.settings, account).name
    subject, text = auth_texts.mail(svc.settings.company.name.get("ja"), name, link,
                                    f"{svc.config.public_base_url}/recruiter/sign-in", invited)
    try:
        mailer.send_text(account.email, subject, text, svc.settings.company.name.get("ja"))
    except (TemporaryError, PermanentError) as exc:
        log.warning("sign-in mail for account %s not sent: %s", account.id, exc)
        return False
    return True


@bp.get("/sign-in/<token>")
def landing(token: str):
    """The page a sign-in link opens: it asks, and spends nothing (see the module's docstring)."""
    if not accounts.link_usable(services(), token):
        return page("invalid", 410)
    return page("confirm", token=token)


@bp.post("/sign-in/<token>")
def use_link(token: str):
    check_csrf()
    signed = accounts.redeem(services(), token)
    if signed is None:
        return page("invalid", 410)
    return start(*signed)


def start(person: Person, token: str):
    """Sign this browser in: a fresh session (and form token), lasting PERMANENT_SESSION_LIFETIME."""
    back = session.get("next")
    session.clear()  # nothing from before signing in carries over (session fixation)
    login_user(Signed(person, token))
    session.permanent = True
    if not (isinstance(back, str) and back.startswith("/recruiter/") and not back.startswith("/recruiter/sign-in")):
        back = url_for("recruiter.index")
    return redirect(back, 303)


@bp.get("/login/<key>")
def old_link(key: str):
    """The shared link of earlier versions: links are personal now, so it leads to the sign-in page."""
    return redirect(url_for("auth.sign_in"))


@bp.post("/logout")
def logout():
    check_csrf()
    if current_user.is_authenticated:
        accounts.sign_out(services(), current_user.token)
    logout_user()
    session.clear()
    return render_template("signed_out.html", company=services().settings.company.name.get("ja"))
