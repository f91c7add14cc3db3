"""`sokuresu recruiter invite|list|remove` and `sokuresu recruiter-url`: the people who sign in to the recruiter
pages. Each sign-in link printed here works once, within 15 minutes."""
from __future__ import annotations

from functools import wraps

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.channels.email.staff import StaffMail
from bot.cli.common import load_services
from bot.core.vocab import Role
from bot.db.engine import session_scope
from bot.service import accounts
from bot.web.auth import send_link


def _migrated(command):
    """A database without the accounts tables is a clear message, not a traceback."""
    @wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            raise click.ClickException(f"the database is not ready ({type(exc.orig).__name__}): "
                                       "run `sokuresu db upgrade` first") from None
    return wrapped


def _mail(svc, account, link: str, invited: bool) -> None:
    """Mail the link too when SMTP is set (the link is printed either way)."""
    if not svc.config.smtp_url:
        return
    sent = send_link(StaffMail(svc.config), svc, account, link, invited=invited)
    click.echo(f"mailed to {account.email}" if sent else f"could not mail {account.email}; pass the link on",
               err=True)


@click.group("recruiter")
def recruiter() -> None:
    """People who sign in to the recruiter pages: invite, list, remove."""


@recruiter.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=None,
              help="What they may do (a new person: recruiter; someone already invited keeps theirs).")
@click.option("--name", default="", help="The name shown to colleagues (default: their interviewer name or e-mail).")
@_migrated
def invite(email: str, role: str | None, name: str) -> None:
    """Give EMAIL access and print a one-time sign-in link (mailed too when SMTP_URL is set)."""
    if not accounts.looks_like_email(email):
        raise click.ClickException(f"{email!r} is not an e-mail address")
    svc = load_services()
    try:
        account, link = accounts.invite(svc, email, Role(role) if role else None, name, via="cli")
    except accounts.LastAdmin:
        raise click.ClickException(f"{email} is the only admin: invite another admin first") from None
    click.echo(link)
    _mail(svc, account, link, invited=True)


@recruiter.command("list")
@_migrated
def list_people() -> None:
    """Everyone who may sign in, with their role and last sign-in."""
    svc = load_services()
    with session_scope(svc.engine) as session:
        everyone = accounts.people(session)
    for account in everyone:
        last = (account.last_sign_in_at.astimezone(svc.settings.tz).strftime("%Y-%m-%d %H:%M")
                if account.last_sign_in_at else "never signed in")
        click.echo(f"{account.email:<40} {account.role:<12} {last}  {accounts.person(svc.settings, account).name}")
    if not everyone:
        click.echo("nobody yet: `sokuresu recruiter invite EMAIL --role admin`")


@recruiter.command("remove")
@click.argument("email")
@_migrated
def remove(email: str) -> None:
    """Take EMAIL's access away: their sessions end on their next request, their links stop working."""
    svc = load_services()
    try:
        removed = accounts.remove(svc, email, by=None, via="cli")
    except accounts.LastAdmin:
        raise click.ClickException(f"{email} is the only admin: invite another admin first") from None
    if removed is None:
        raise click.ClickException(f"nobody with access has the address {email}")
    click.echo(f"removed {removed.email}")


@click.command("recruiter-url")
@_migrated
def recruiter_url() -> None:
    """Print a one-time sign-in link for the first admin (made as admin@example.com when there is none)."""
    svc = load_services()
    _, link = accounts.first_admin_link(svc)
    click.echo(link)
