"""Business units (部門): the departments, subsidiaries or sites that own suppliers, and the
staff who work for them. Who sees which supplier follows from both (vendorrisk/scoping.py)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vendorrisk.extensions import db
from vendorrisk.models.base import TimestampMixin


class BusinessUnit(TimestampMixin, db.Model):
    __tablename__ = "business_units"
    __audited__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable code (e.g. "JP-EAST", "SUB-TW"), as a purchasing system or ERP names it.
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    #: Name in Japanese.
    name: Mapped[str] = mapped_column(sa.String(200))
    #: Name in English; empty: the Japanese name is shown.
    name_en: Mapped[str] = mapped_column(sa.String(200), default="", server_default="")
    #: An inactive unit takes no new suppliers or members; what it holds stays as it is.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    members: Mapped[list[UnitMembership]] = relationship(
        back_populates="unit", cascade="all, delete-orphan", passive_deletes=True
    )

    def label(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


class UnitMembership(db.Model):
    """A user works for a unit: a procurement or reviewer account sees that unit's suppliers."""

    __tablename__ = "unit_memberships"
    __audited__ = True
    __table_args__ = (sa.UniqueConstraint("user_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(
        sa.ForeignKey("business_units.id", ondelete="CASCADE"), index=True
    )

    unit: Mapped[BusinessUnit] = relationship(back_populates="members")
