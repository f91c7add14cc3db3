"""Applying inside LINE, step by step (name, job, phone), as pure functions: no database, nothing sent.

A friend who applies here has no application yet, so no conversation state: their steps are this
small machine of their own. bot/channels/line/leads.py stores its result and asks the question it names.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.core.settings import Job
from bot.service.intake import name_problem, normalise_phone

SKIP = {"skip", "スキップ", "なし", "無し", "ない", "いいえ", "no", "none"}


@dataclass(frozen=True)
class Lead:
    """Where a friend is in applying: the step that waits for an answer, and what they gave so far."""

    step: str = "name"  # name | job | phone
    name: str | None = None
    job_id: str | None = None


@dataclass(frozen=True)
class Next:
    """The lead after an answer and the question to ask now; no question means apply, with `phone` if given."""

    lead: Lead
    ask: str | None = None  # line_ask_name | line_ask_job | line_ask_phone | line_bad_phone
    phone: str | None = None


def take(lead: Lead, text: str | None, data: str | None, jobs: Mapping[str, Job]) -> Next:
    """The next step after the friend's message (`text`) or tap (`data`)."""
    if lead.step == "name":
        return _name(lead, text, jobs)
    if lead.step == "job":
        return _job(lead, text, data, jobs)
    return _phone(lead, text, data, jobs)


def _ask_job(lead: Lead, jobs: Mapping[str, Job]) -> Next:
    if len(jobs) == 1:  # nothing to choose
        return Next(replace(lead, step="phone", job_id=next(iter(jobs.values())).id), "line_ask_phone")
    return Next(replace(lead, step="job"), "line_ask_job")


def _name(lead: Lead, text: str | None, jobs: Mapping[str, Job]) -> Next:
    # The same rules as a name typed into the form (bot.service.intake): it is said back in the company's name.
    name = " ".join(unicodedata.normalize("NFKC", text or "").split())
    invisible = any(unicodedata.category(c) in ("Cc", "Cf") for c in name)  # NUL, zero-width, text direction
    if not name or len(name) > 100 or invisible or name_problem(name) is not None:
        return Next(lead, "line_ask_name")
    return _ask_job(replace(lead, name=name), jobs)


def _job(lead: Lead, text: str | None, data: str | None, jobs: Mapping[str, Job]) -> Next:
    wanted = data[4:] if data and data.startswith("job:") else (text or "").strip()
    for job in jobs.values():
        if wanted in (job.id, job.title.ja, job.title.en):
            return Next(replace(lead, step="phone", job_id=job.id), "line_ask_phone")
    return _ask_job(lead, jobs)  # a stale or forged button, or free text: show the choices again


def _phone(lead: Lead, text: str | None, data: str | None, jobs: Mapping[str, Job]) -> Next:
    if data == "skip" or (text or "").strip().lower() in SKIP:
        return _done(lead, None, jobs)
    try:
        phone = normalise_phone(text or "")
    except ValueError:
        return Next(replace(lead, step="phone"), "line_bad_phone")
    return _done(lead, phone, jobs)


def _done(lead: Lead, phone: str | None, jobs: Mapping[str, Job]) -> Next:
    if lead.job_id not in jobs:  # the job closed while they were typing
        return _ask_job(lead, jobs)
    return Next(lead, phone=phone)
