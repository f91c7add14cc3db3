"""The `sokuresu` command: demo, worker, db upgrade, recruiter (invite, list, remove), recruiter-url, keys."""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import replace
from datetime import time, timedelta

import click
from sqlmodel import select
from werkzeug.serving import run_simple

from bot.app import create_app
from bot.bootstrap import settle_after_start
from bot.channels import registry
from bot.cli.common import load_services
from bot.cli.erase import erase as erase_command
from bot.cli.google import google as google_commands
from bot.cli.keys import keys as key_commands
from bot.cli.recruiter import recruiter as recruiter_commands
from bot.cli.recruiter import recruiter_url
from bot.config import Config, ConfigError
from bot.core.vocab import KeyPurpose, OutboxStatus
from bot.db.engine import session_scope
from bot.db.migrate import check, upgrade
from bot.db.models import Outbox
from bot.service import accounts, demo_history
from bot.service.followups import FOLLOW_UPS
from bot.web.security import feed_token
from bot.worker import run_until_signalled, start_thread
from calendars.local import LocalCalendar, LocalEvent
from calendars.slots import wall_to_utc


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class _Commands(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:  # a setting we cannot start with: say which, not a traceback
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Commands)
def main() -> None:
    """Sokuresu: answer every applicant within seconds and book the interview."""


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (the Procfile's release step)."""
    config = Config.from_env()
    upgrade(config.database_url)
    click.echo("database is up to date")


@db.command("check")
def db_check() -> None:
    """Exit non-zero when the database schema differs from the models."""
    diff = check(Config.from_env().database_url)
    if diff:
        raise click.ClickException(f"schema differs from the models: {diff}")
    click.echo("schema matches the models")


@main.command()
@click.option("--poll", default=0.5, show_default=True, help="Seconds between looks at the outbox when idle.")
@click.option("-v", "--verbose", is_flag=True)
def worker(poll: float, verbose: bool) -> None:
    """Send the outbox (greetings, replies, reminders) until SIGTERM."""
    _logging(verbose)
    services = load_services()
    settle_after_start()
    run_until_signalled(services, poll)


@main.command()
@click.option("--limit", default=50, show_default=True, help="How many rows to show.")
def followups(limit: int) -> None:
    """List the reminders and nudges still to be sent, soonest first (no names or addresses)."""
    svc = load_services()
    with session_scope(svc.engine) as session:
        rows = session.exec(select(Outbox).where(Outbox.status == OutboxStatus.PENDING, Outbox.kind.in_(FOLLOW_UPS))
                            .order_by(Outbox.due_at).limit(limit)).all()
    for row in rows:
        due = row.due_at.astimezone(svc.settings.tz).strftime("%Y-%m-%d %H:%M %Z")
        click.echo(f"{due}  #{row.id:<7} applicant {row.applicant_id or '-':<6} {row.kind:<20} via {row.channel}")
    if not rows:
        click.echo("nothing scheduled")


def seed_demo(svc) -> None:
    """Give the demo interviewers some busy time, once, so the offered slots look real."""
    with session_scope(svc.engine) as session:
        if session.exec(select(LocalEvent).where(LocalEvent.kind == "block")).first():
            return
        cal, tz = LocalCalendar(session, svc.clock), svc.settings.tz
        today = svc.clock().astimezone(tz).date()
        for offset in range(1, 15, 2):
            day = today + timedelta(days=offset)
            for who, (hour, minutes) in (("sato", (10, 90)), ("tanaka", (14, 60))):
                start = wall_to_utc(day, time(hour), tz)
                if start and who in svc.settings.interviewers:
                    cal.block(who, start, start + timedelta(minutes=minutes), "社内ミーティング")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """Run the whole product on the embedded defaults: SQLite, local calendar, sandbox chat."""
    _logging()
    config = Config.from_env()
    if not os.environ.get("PUBLIC_BASE_URL"):
        config = replace(config, public_base_url=f"http://localhost:{port}")
    upgrade(config.database_url)
    svc = load_services(config)
    seed_demo(svc)
    demo_history.seed(svc)  # six weeks of made-up applications, so the funnel and today's page show something
    app = create_app(services=svc)
    start_thread(svc)
    base = config.public_base_url
    click.echo("\nSokuresu demo is running.\n")
    click.echo(f"  Apply as a candidate:   {base}/apply")
    admin, link = accounts.first_admin_link(svc)  # the demo's admin: admin@example.com unless one was invited
    click.echo(f"  Recruiter page:         {link}")
    click.echo(f"                          (signs in {admin.email} once, within 15 minutes; "
               "a new link: sokuresu recruiter-url)")
    for who in svc.settings.interviewers.values():
        feed = feed_token(svc.keys.current(KeyPurpose.FEEDS), who.id)
        click.echo(f"  Calendar feed ({who.id}): {base}/calendar/{feed}.ics")
    click.echo("\nPress Ctrl+C to stop.\n")
    run_simple(host, port, app, threaded=True, use_reloader=False)


main.add_command(erase_command)  # `sokuresu erase APPLICANT_ID`
main.add_command(google_commands)  # `sokuresu google auth|check`
main.add_command(key_commands)  # `sokuresu keys show|rotate <purpose>`
main.add_command(recruiter_commands)  # `sokuresu recruiter invite|list|remove`
main.add_command(recruiter_url)  # a fresh sign-in link for the first admin
for command in registry.commands():  # each channel's commands: `sokuresu line setup-richmenu`
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
