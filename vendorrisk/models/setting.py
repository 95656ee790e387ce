"""Settings rows (tier rules, the schedule) saved so that two admins never overwrite each other
unseen: the form carries a fingerprint of the value it shows, and the write is refused when the
stored value is no longer that one.

The check is the write itself — UPDATE … WHERE the stored text is still the text just read, or
INSERT … ON CONFLICT DO NOTHING for a setting never saved — so a save racing another cannot slip
between a check and a write. The row holds no version counter: its value is its own version.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, mapped_column

from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models.base import UTCDateTime, utcnow

#: The fingerprint of a setting never saved (the form showed the defaults).
UNSAVED = "unsaved"


class Setting(db.Model):
    """Settings an admin changes in the UI (tier rules, cadences), as JSON by key."""

    __tablename__ = "settings"
    __audited__ = True

    key: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    #: The value.
    value: Mapped[dict] = mapped_column(sa.JSON)
    #: When it last changed (UTC).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SettingConflict(ServiceError):
    """Someone else saved the setting since the form was shown; theirs is kept."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Someone else saved these settings while you were editing them, so yours were "
                "not saved. Their values are shown now: make your changes again if they are "
                "still needed."
            )
        )


def _digest(value: Any) -> str:
    if value is None:
        return UNSAVED
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(key: str) -> str:
    """What the form carries with the value it shows (read through the session, as that was)."""
    row = db.session.get(Setting, key)
    return _digest(row.value if row is not None else None)


def _stored_text(key: str) -> str | None:
    return db.session.scalar(sa.select(sa.cast(Setting.value, sa.Text)).where(Setting.key == key))


def _insert(key: str, value: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING, audited as a flush would: False if another got there."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(Setting)
        .values(key=key, value=value, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Setting.key)
    )
    if db.session.execute(stmt).scalar() is None:
        return False
    from vendorrisk.services import audit  # here: the audit log imports the models

    audit.record_created(db.session.get(Setting, key))
    return True


def _claim(key: str, text: str) -> bool:
    """UPDATE … WHERE the stored text is still `text`: the row is then ours until commit."""
    claimed = db.session.execute(
        sa.update(Setting.__table__)
        .where(Setting.key == key, sa.cast(Setting.value, sa.Text) == text)
        .values(updated_at=utcnow())
    )
    return claimed.rowcount == 1


def save(key: str, value: dict, seen: str | None = None) -> None:
    """Store `value` under `key` if `seen` (a fingerprint) is still current, else SettingConflict.

    Without `seen` (a post from no form of ours) whatever is stored is replaced.
    """
    db.session.flush()
    for _ in range(5):
        text = _stored_text(key)
        if seen and seen != _digest(json.loads(text) if text is not None else None):
            raise SettingConflict()
        if text is None:
            if _insert(key, value):
                return
        elif _claim(key, text):
            row = db.session.get(Setting, key)
            db.session.refresh(row)  # as claimed: the audit shows what was replaced
            row.value = value
            db.session.flush()
            return
    raise SettingConflict()
