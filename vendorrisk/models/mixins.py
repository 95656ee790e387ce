"""Columns and rules several tables share: a secret kept only hashed, and an emailed link."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Self

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from vendorrisk.models.base import UTCDateTime, one_of, utcnow
from vendorrisk.vocab import Locale


def hash_token(token: str) -> str:
    """The one way a token is stored and looked up: SHA-256, hex."""
    return hashlib.sha256(token.encode()).hexdigest()


class HashedTokenMixin:
    """A 256-bit secret handed out once; only its SHA-256 is stored."""

    #: SHA-256 of the 256-bit token; the token itself is only in the link, mail or cookie.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    def issue_token(self) -> str:
        """A fresh token for this row: stores its hash, returns the token (shown once)."""
        token = secrets.token_urlsafe(32)
        self.token_hash = hash_token(token)
        return token

    @classmethod
    def with_token(cls, token: str) -> sa.Select[tuple[Self]]:
        """SELECT the row a presented token belongs to (none for a forged one)."""
        return sa.select(cls).where(cls.token_hash == hash_token(token))


class EmailedLinkMixin(HashedTokenMixin):
    """A link mailed to one supplier contact, in their language, until it expires.

    Invitations (a questionnaire) and evidence requests (a renewed certificate) are both this.
    """

    __audit_redacted__ = frozenset({"token_hash"})

    @declared_attr
    def contact_id(cls) -> Mapped[int | None]:
        #: The contact it was sent to.
        return mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True)

    #: Address it was sent to (kept if the contact changes).
    email: Mapped[str] = mapped_column(sa.String(254))
    #: Language of the mail and the page it opens (a vocab.Locale).
    locale: Mapped[str] = mapped_column(sa.String(5), default=Locale.ja.value)
    #: When it was created and mailed (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The link stops working after this (UTC).
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @declared_attr
    def contact(cls):
        return relationship("Contact")

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (one_of("locale", Locale),)
