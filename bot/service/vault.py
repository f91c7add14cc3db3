"""Secrets we must keep (OAuth refresh tokens), encrypted with a key derived from SECRET_KEY."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, select

from bot.db.models import StoredCredential


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted: SECRET_KEY changed since it was stored."""


def fernet(secret_key: str) -> Fernet:
    """A Fernet key derived from SECRET_KEY (HKDF, so the signing key itself never encrypts anything)."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sokuresu", info=b"stored-credential").derive(
        secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def store(session: Session, secret_key: str, name: str, value: dict, now: datetime) -> None:
    """Encrypt and save (or replace) one secret record."""
    row = session.exec(select(StoredCredential).where(StoredCredential.name == name)).first()
    row = row or StoredCredential(name=name, ciphertext="")
    row.ciphertext = fernet(secret_key).encrypt(json.dumps(value).encode()).decode()
    row.updated_at = now
    session.add(row)


def load(session: Session, secret_key: str, name: str) -> dict | None:
    """Decrypt one secret record; None when there is none."""
    row = session.exec(select(StoredCredential).where(StoredCredential.name == name)).first()
    if row is None:
        return None
    try:
        return json.loads(fernet(secret_key).decrypt(row.ciphertext.encode()))
    except InvalidToken:
        raise SecretUnreadable(
            f"{name}: cannot be decrypted; was SECRET_KEY changed? run `sokuresu google auth` again") from None


def names(session: Session, prefix: str) -> list[str]:
    return list(session.exec(select(StoredCredential.name).where(StoredCredential.name.startswith(prefix))))
