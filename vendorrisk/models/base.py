"""Column types and mixins shared by the models."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store UTC-aware datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum stored as its value, with a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


def one_of(
    column: str, values: Iterable[str], *, name: str | None = None, nullable: bool = False
) -> sa.CheckConstraint:
    """A CHECK that `column` holds one of `values` (a vocab enum), named after the column."""
    listed = ", ".join(f"'{value}'" for value in values)
    sql = f"{column} IN ({listed})"
    return sa.CheckConstraint(
        f"{column} IS NULL OR {sql}" if nullable else sql, name=name or column
    )


class TimestampMixin:
    #: When the row was created (UTC).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the row last changed (UTC).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
