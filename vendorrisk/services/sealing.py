"""Secrets the app must read back (a TOTP secret, a webhook's signing secret) are stored sealed:
Fernet-encrypted with a key derived from SECRET_KEY by HKDF, one key per purpose. A copy of the
database alone gives nobody the secrets; rotating SECRET_KEY makes them unreadable."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


def fernet(purpose: bytes) -> Fernet:
    """The Fernet of one purpose (the HKDF info), keyed from SECRET_KEY."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        current_app.config["SECRET_KEY"].encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str, purpose: bytes) -> str:
    """The secret encrypted for storage."""
    return fernet(purpose).encrypt(secret.encode()).decode()


def unseal(sealed: str | None, purpose: bytes, max_age: int | None = None) -> str | None:
    """The secret, or None when there is none, it was sealed under another SECRET_KEY, was
    altered, or (with `max_age`, in seconds) was sealed longer ago than that."""
    if not sealed:
        return None
    try:
        return fernet(purpose).decrypt(sealed.encode(), ttl=max_age).decode()
    except (InvalidToken, ValueError):
        return None
