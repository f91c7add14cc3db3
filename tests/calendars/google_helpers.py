"""Shared set-up for the Google tests: a fake service account whose key the fake server trusts."""
from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SA_EMAIL = "sokuresu-bot@test-project.iam.gserviceaccount.com"


def service_account_info(fake) -> dict:
    """A service-account key file's content; the fake learns the public half so the JWT grant can verify."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    fake.public_keys[SA_EMAIL] = key.public_key()
    return {"type": "service_account", "project_id": "test-project", "private_key_id": "k1", "private_key": pem,
            "client_email": SA_EMAIL, "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}


def google_env(fake, delegated: str | None = "recruit@example.com") -> dict:
    env = {"GOOGLE_SERVICE_ACCOUNT_JSON": json.dumps(service_account_info(fake)),
           "GOOGLE_API_ENDPOINT": fake.origin, "GOOGLE_TOKEN_URI": fake.origin + "/token"}
    if delegated:
        env["GOOGLE_DELEGATED_USER"] = delegated
    return env


SATO, TANAKA = "sato@example.com", "tanaka@example.com"


def google_settings(**jobs):
    """The demo settings with both interviewers in Google Calendar; jobs overridable by id."""
    from dataclasses import replace

    from bot.core.settings import load_settings

    base = load_settings(None)
    interviewers = {k: replace(v, calendar=f"{k}@example.com") for k, v in base.interviewers.items()}
    merged = {**base.jobs, **{k: replace(base.jobs[k], **v) for k, v in jobs.items()}}
    return replace(base, interviewers=interviewers, jobs=merged)


def google_services(fake, db_url, clock, settings=None, delegated="recruit@example.com"):
    """Services wired to Google through the fake; retries sleep into a list instead of the clock."""
    from tests.conftest import make_services

    fake.add_calendar(SATO)
    fake.add_calendar(TANAKA)
    svc = make_services(db_url, clock, env=google_env(fake, delegated), settings=settings or google_settings())
    svc.sleeps = []
    svc.calendar_for.sleep = svc.sleeps.append
    return svc


def run_worker(svc, rounds: int = 5) -> None:
    """Deliver everything due now (the calendar writes included)."""
    from bot.service.delivery import run_once

    for _ in range(rounds):
        if not run_once(svc, "test-worker"):
            return
