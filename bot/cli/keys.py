"""`sokuresu keys show|rotate`: the keys derived from SECRET_KEY, one per purpose, each rotated alone."""
from __future__ import annotations

import click
from sqlmodel import select

from bot.config import Config
from bot.core.settings import load_settings
from bot.core.vocab import KeyPurpose
from bot.db.engine import make_engine, session_scope
from bot.db.models import KeyGeneration
from bot.service import vault
from bot.service.keys import Keys, bump
from bot.web.security import feed_token
from calendars.base import utcnow

# What a rotation ends, said before it is done.
EFFECTS = {
    KeyPurpose.FEEDS: "every interviewer's calendar feed URL changes: the old ones stop working, and calendars "
                      "must subscribe again to the new ones (on the recruiter page, and printed below)",
    KeyPurpose.LINKS: "the links in messages already sent stop working: candidates' pages, unsubscribe links and "
                      "recruiters' attended/no-show links (short links to the company's own content keep working)",
    KeyPurpose.SESSIONS: "everyone signed in to the recruiter page is signed out (sign-in links already sent "
                         "keep working: they are stored hashed, not signed)",
    KeyPurpose.VAULT: "the stored credentials (Google grants) are re-encrypted under the new key, in one "
                      "transaction; nothing else changes",
}


@click.group("keys")
def keys() -> None:
    """Keys derived from SECRET_KEY: feeds, links, sessions, vault."""


@keys.command("show")
def show() -> None:
    """Each purpose's generation and when it was last rotated (no key material)."""
    config = Config.from_env()
    engine = make_engine(config.database_url)
    with session_scope(engine) as session:
        rows = {row.purpose: row for row in session.exec(select(KeyGeneration)).all()}
    engine.dispose()
    for purpose in KeyPurpose:
        row = rows.get(purpose)
        when = row.rotated_at.strftime("%Y-%m-%d %H:%M UTC") if row else "never rotated"
        click.echo(f"{purpose:<9} generation {row.generation if row else 0:<4} {when}")


@keys.command("rotate")
@click.argument("purpose", type=click.Choice([p.value for p in KeyPurpose]))
@click.option("--yes", is_flag=True, help="Rotate without asking.")
def rotate(purpose: str, yes: bool) -> None:
    """Give one purpose a new key; the others keep theirs. Restart the web and worker processes afterwards."""
    purpose = KeyPurpose(purpose)
    if not yes:
        click.confirm(f"Rotate the {purpose} key? Then {EFFECTS[purpose]}.", abort=True)
    config = Config.from_env()
    engine = make_engine(config.database_url)
    try:
        with session_scope(engine) as session:  # a one-off command: its own clock is the only one
            if purpose == KeyPurpose.VAULT:
                generation, unreadable = vault.rotate(session, config.secret_key, utcnow())
            else:
                generation, unreadable = bump(session, purpose, utcnow()), []
        current = Keys.read(config.secret_key, engine)
    finally:
        engine.dispose()
    click.echo(f"The {purpose} key is now at generation {generation}: {EFFECTS[purpose]}.")
    for name in unreadable:
        click.echo(f"  left as it was, no key reads it (SECRET_KEY changed since): {name}", err=True)
    base = config.public_base_url
    if purpose == KeyPurpose.SESSIONS:
        click.echo("  Sign in again: `sokuresu recruiter-url` prints a link for the first admin")
    if purpose == KeyPurpose.FEEDS:
        for who in load_settings(config.settings_path).interviewers.values():
            feed = feed_token(current.current(purpose), who.id)
            click.echo(f"  Calendar feed ({who.id}): {base}/calendar/{feed}.ics")
    click.echo("Restart the web and worker processes: each reads the keys when it starts.")
