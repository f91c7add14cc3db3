"""`sokuresu erase APPLICANT_ID`: delete a person's data on request, as the recruiter page's admin button does."""
from __future__ import annotations

import click

from bot.cli.common import load_services
from bot.db.engine import session_scope
from bot.service import erasure


@click.command("erase")
@click.argument("applicant_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask first.")
def erase(applicant_id: int, yes: bool) -> None:
    """Delete every application of the person who made APPLICANT_ID, their messages, links and interview events.

    The audit log keeps that it was done (by the command line), not the data."""
    svc = load_services()
    with session_scope(svc.engine) as session:
        found = erasure.person_of(session, applicant_id)
        ids = [a.id for a in found]
    if not found:
        raise click.ClickException(f"no applicant #{applicant_id}")
    click.echo(f"This deletes {len(ids)} application(s) of one person: #{', #'.join(map(str, ids))}, with their "
               "messages, interviews (calendar events too) and links. It cannot be undone.")
    if not yes:
        click.confirm("Delete?", abort=True)
    erased = erasure.erase(svc, applicant_id, by=None, via="cli")
    if erased is None:  # erased meanwhile
        raise click.ClickException(f"no applicant #{applicant_id}")
    click.echo(f"Deleted {erased.rows} rows of {len(erased.applicant_ids)} application(s); "
               f"{erased.events} calendar event(s) cancelled.")
