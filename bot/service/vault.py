"""Secrets we must keep (OAuth refresh tokens), encrypted with the vault's key (bot.service.keys).

Each row records the vault generation it is encrypted under, so it is always read with its own key: a process
that started before a rotation, or a row written during one, stays readable. `rotate` re-encrypts every row under
a new generation in one transaction.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlmodel import Session, select

from bot.core.vocab import KeyPurpose
from bot.db.models import StoredCredential
from bot.service.keys import bump, derive, generation


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted: SECRET_KEY changed since it was stored."""


def fernet(secret_key: str, key_generation: int | None) -> Fernet:
    """The Fernet of one vault generation (None: a row stored before keys had generations, under its own HKDF)."""
    if key_generation is None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"sokuresu", info=b"stored-credential").derive(
            secret_key.encode())
    else:
        key = bytes.fromhex(derive(secret_key, KeyPurpose.VAULT, key_generation))
    return Fernet(base64.urlsafe_b64encode(key))


def _row(session: Session, name: str) -> StoredCredential | None:
    return session.exec(select(StoredCredential).where(StoredCredential.name == name)).first()


def _encrypt(row: StoredCredential, secret_key: str, key_generation: int, value: dict, now: datetime) -> None:
    row.ciphertext = fernet(secret_key, key_generation).encrypt(json.dumps(value).encode()).decode()
    row.key_generation, row.updated_at = key_generation, now


def _decrypt(row: StoredCredential, secret_key: str) -> dict:
    try:
        return json.loads(fernet(secret_key, row.key_generation).decrypt(row.ciphertext.encode()))
    except InvalidToken:
        raise SecretUnreadable(
            f"{row.name}: cannot be decrypted; was SECRET_KEY changed? run `sokuresu google auth` again") from None


def store(session: Session, secret_key: str, name: str, value: dict, now: datetime) -> None:
    """Encrypt and save (or replace) one secret record under the vault's current key."""
    row = _row(session, name) or StoredCredential(name=name, ciphertext="")
    _encrypt(row, secret_key, generation(session, KeyPurpose.VAULT), value, now)
    session.add(row)


def load(session: Session, secret_key: str, name: str) -> dict | None:
    """Decrypt one secret record; None when there is none."""
    row = _row(session, name)
    return None if row is None else _decrypt(row, secret_key)


def names(session: Session, prefix: str) -> list[str]:
    return list(session.exec(select(StoredCredential.name).where(StoredCredential.name.startswith(prefix))))


def rotate(session: Session, secret_key: str, now: datetime) -> tuple[int, list[str]]:
    """A new vault generation, and every record re-encrypted under it, in the caller's transaction: all or nothing.

    Returns the generation and the names of records no key can read (SECRET_KEY changed since they were stored):
    those are left as they are, never deleted."""
    new = bump(session, KeyPurpose.VAULT, now)
    unreadable = []
    for row in session.exec(select(StoredCredential).order_by(StoredCredential.id).with_for_update()).all():
        try:
            value = _decrypt(row, secret_key)
        except SecretUnreadable:
            unreadable.append(row.name)
            continue
        _encrypt(row, secret_key, new, value, now)
        session.add(row)
    session.flush()
    return new, unreadable
