"""Signatures as the Standard Webhooks spec defines them (standardwebhooks.com): the headers
webhook-id, webhook-timestamp (Unix seconds) and webhook-signature "v1,<base64 HMAC-SHA256 of
'{id}.{timestamp}.{body}'>", keyed with the secret "whsec_<base64 of 24 random bytes>"."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from vendorrisk.services import sealing

PREFIX = "whsec_"
#: The HKDF purpose of the key the secrets are stored under (services.sealing).
PURPOSE = b"vendorrisk webhook secret v1"


def new_secret() -> str:
    """A fresh signing secret: 192 bits from the OS CSPRNG."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def seal(secret: str) -> str:
    return sealing.seal(secret, PURPOSE)


def unseal(sealed: str) -> str | None:
    return sealing.unseal(sealed, PURPOSE)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for this message."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three signature headers."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
