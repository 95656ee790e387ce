"""Counters that move whenever stored data of some kind changes, so that whatever was computed
from that data can be kept until they move (services/reporting/cache.py: the roll-up's figures).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.extensions import db


class DataVersion(db.Model):
    """One counter by name ("figures": every table a figure of the roll-up or report reads)."""

    __tablename__ = "data_versions"

    #: What the counter follows.
    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: Moves on (by one) with each committed transaction that changed that data. A counter made
    #: anew (its row deleted, the database restored) starts at a random number, never at one a
    #: cache may still hold.
    version: Mapped[int] = mapped_column(sa.BigInteger)
