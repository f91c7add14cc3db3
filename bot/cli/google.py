"""`sokuresu google auth|check`: connect a personal Google account, and see at a glance whether each calendar works."""
from __future__ import annotations

import json

import click
from sqlmodel import select

from bot.cli.common import load_services
from bot.config import Config
from bot.db.engine import make_engine, session_scope
from bot.db.models import CalendarSync
from bot.google_calendar import OAUTH_PREFIX, GoogleCalendars, google_calendar_ids, service_account_info
from bot.service.calendar_health import hint
from bot.service.vault import store
from calendars.base import utcnow
from calendars.errors import CalendarError
from calendars.router import parse_route


@click.group("google")
def google() -> None:
    """Google Calendar: connect a personal account, check access."""


def save_grant(config: Config, calendar_id: str, grant: dict) -> None:
    """Store a personal account's grant for one calendar, encrypted with SECRET_KEY."""
    # Only what refreshing needs: the short-lived access token is not worth keeping.
    keep = {k: grant[k] for k in ("refresh_token", "client_id", "client_secret", "token_uri") if grant.get(k)}
    engine = make_engine(config.database_url)
    with session_scope(engine) as session:
        # A one-off command outside any service: its own clock is the only one.
        store(session, config.secret_key, OAUTH_PREFIX + calendar_id, keep, utcnow())
    engine.dispose()


@google.command("auth")
@click.option("--client-secrets", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The OAuth client file (type: Desktop app) downloaded from Google Cloud Console.")
@click.option("--calendar", "calendar_id", required=True,
              help="The calendar id this account owns, as written in the settings (usually its e-mail address).")
@click.option("--port", default=0, show_default=True, type=int, help="Local port for Google's redirect (0: any).")
@click.option("--no-browser", is_flag=True, help="Print the link instead of opening a browser.")
def auth(client_secrets: str, calendar_id: str, port: int, no_browser: bool) -> None:
    """Let Sokuresu use a personal Google account's calendar (installed-app OAuth)."""
    from google_auth_oauthlib.flow import InstalledAppFlow

    from calendars.google.backend import SCOPES

    flow = InstalledAppFlow.from_client_secrets_file(client_secrets, scopes=SCOPES)
    creds = flow.run_local_server(
        port=port, open_browser=not no_browser, prompt="consent",  # consent: Google then always sends a refresh token
        authorization_prompt_message="Open this link and allow access to the calendar:\n{url}\n",
        success_message="Sokuresu can now use this calendar. You may close this tab.")
    if not creds.refresh_token:
        raise click.ClickException("Google sent no refresh token; remove Sokuresu at "
                                   "https://myaccount.google.com/permissions and run this again")
    save_grant(Config.from_env(), calendar_id, json.loads(creds.to_json()))
    click.echo(f"Stored the grant for {calendar_id} (encrypted with SECRET_KEY). Restart the web and worker processes.")


@google.command("check")
def check() -> None:
    """Show, on one screen, whether every Google calendar in the settings can be read and written."""
    svc = load_services()
    calendars = svc.calendar_for
    if not isinstance(calendars, GoogleCalendars):
        click.echo("No interviewer uses Google Calendar: every `calendar` in the settings is 'local'.")
        return
    with session_scope(svc.engine) as session:
        calendars.load_grants(session)
    info = service_account_info(svc.config)
    # With delegation Google checks the user's access, so that is who the calendar must be shared with.
    who = svc.config.google_delegated_user or (info.get("client_email", "the service account") if info
                                                else "the connected account")
    acting = f", acting as {svc.config.google_delegated_user}" if svc.config.google_delegated_user else ""
    click.echo(f"Google Calendar check — service account: {info['client_email'] if info else 'none'}{acting}")
    if calendars._oauth:
        click.echo(f"  personal accounts connected: {', '.join(sorted(calendars._oauth))}")
    names = {}
    for i in svc.settings.interviewers.values():
        names.setdefault(parse_route(i.calendar).calendar, []).append(i.id)
    failed = 0
    for cal in google_calendar_ids(svc.settings):
        try:
            result = calendars.client_for(cal).probe([cal])[cal]
        except CalendarError as exc:
            result = f"not reachable: {exc}"
        label = ",".join(names[cal])
        if result == "ok":
            click.echo(f"  OK  {label:<14} {cal}: readable and writable")
        else:
            failed += 1
            click.echo(f"  NG  {label:<14} {cal}: {result}\n      → {hint(result, who)}")
    with session_scope(svc.engine) as session:
        for row in session.exec(select(CalendarSync).order_by(CalendarSync.calendar)):
            when = (row.last_synced_at.astimezone(svc.settings.tz).strftime("%m-%d %H:%M") if row.last_synced_at
                    else "never")
            click.echo(f"  worker's last read of {row.calendar}: {when}"
                       + (f" (failing: {row.last_error})" if row.last_error else ""))
    click.echo("All calendars are ready." if not failed else f"{failed} calendar(s) need attention.")
    if failed:
        raise SystemExit(1)
