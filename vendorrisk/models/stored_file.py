"""Uploaded files (evidence, contract documents), stored outside the web root."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow


class StoredFile(db.Model):
    __tablename__ = "stored_files"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Random file name under the upload folder; never derived from user input.
    storage_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The name it was uploaded under (shown, never used as a path).
    original_name: Mapped[str] = mapped_column(sa.String(255))
    #: Content type detected from the bytes, not the name.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    #: Size in bytes.
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: SHA-256 of the content.
    sha256: Mapped[str] = mapped_column(sa.String(64))
    #: When it was uploaded (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Who uploaded it; None for a supplier contact or the system.
    uploaded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
