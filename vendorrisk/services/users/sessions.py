"""Server-side login sessions: start, load (with the idle timeout), list, end and revoke.

A session ends at its absolute lifetime (SESSION_LIFETIME_HOURS), after SESSION_IDLE_MINUTES
without a request, at logout, or when it is ended from the sessions page or by an admin. Its
last request is kept to the minute (`SEEN_EVERY`): one write a minute, not one a request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import User, UserSession
from vendorrisk.models.mixins import hash_token
from vendorrisk.services import audit

#: last_seen_at moves on at most this often.
SEEN_EVERY = timedelta(minutes=1)


def start_session(user: User, lifetime_hours: int, ip: str | None, user_agent: str | None) -> str:
    """Open a new server-side session and return its token (kept only in the cookie)."""
    now = clock.now()
    session = UserSession(
        user=user,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=lifetime_hours),
        ip=ip,
        user_agent=(user_agent or "")[:255],
    )
    token = session.issue_token()
    db.session.add(session)
    user.last_login_at = now
    user.session_token = token
    actor = audit.Actor(type="user", label=user.email, user_id=user.id, ip=ip)
    with audit.acting_as(actor):
        audit.record("login", user, summary=user.email)
    return token


def _last_seen():
    return sa.func.coalesce(UserSession.last_seen_at, UserSession.created_at)


def _live(now: datetime, idle_minutes: int):
    """The SQL condition of a session still accepted at `now` (0 minutes: no idle limit)."""
    live = sa.and_(UserSession.revoked_at.is_(None), UserSession.expires_at > now)
    if idle_minutes:
        live = sa.and_(live, _last_seen() > now - timedelta(minutes=idle_minutes))
    return live


def load_session(token: str, now: datetime | None = None, idle_minutes: int = 0) -> User | None:
    """The user of a live session token, or None when unknown, expired, idle or revoked.

    With `idle_minutes`, a session unused that long is refused, and a used one has its
    last_seen_at moved on (at most once a minute: the caller commits it).
    """
    now = now or clock.now()
    row = db.session.scalar(
        UserSession.with_token(token).options(sa.orm.joinedload(UserSession.user))
    )
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    seen = row.last_seen_at or row.created_at
    if idle_minutes and now - seen >= timedelta(minutes=idle_minutes):
        return None
    if not row.user.active:
        return None
    if now - seen >= SEEN_EVERY:
        row.last_seen_at = now
    row.user.session_token = token
    return row.user


def end_session(token: str | None) -> None:
    """Revoke one session (logout)."""
    if not token:
        return
    row = db.session.scalar(UserSession.with_token(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = clock.now()
        audit.record("logout", row.user, summary=row.user.email)


def revoke_sessions(user: User, keep: str | None = None) -> int:
    """End every session of `user` (but the one of token `keep`); how many it ended."""
    stmt = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep:
        stmt = stmt.where(UserSession.token_hash != hash_token(keep))
    return db.session.execute(stmt.values(revoked_at=clock.now())).rowcount


def live_sessions(user: User, now: datetime, idle_minutes: int) -> list[UserSession]:
    """The user's sessions still accepted, the most recently used first."""
    return list(
        db.session.scalars(
            sa.select(UserSession)
            .where(UserSession.user_id == user.id, _live(now, idle_minutes))
            .order_by(_last_seen().desc(), UserSession.id.desc())
        )
    )


def is_current(row: UserSession, user: User) -> bool:
    """Whether `row` is the session `user` was loaded through (this browser)."""
    return bool(user.session_token) and row.token_hash == hash_token(user.session_token)


def _describe(row: UserSession) -> str:
    return f"{row.user.email} {row.ip or '-'} {(row.user_agent or '')[:120]}"


def end_one(user: User, session_id: int, now: datetime, idle_minutes: int) -> bool:
    """End one of the user's own live sessions (from the sessions page); False if none such."""
    row = db.session.scalar(
        sa.select(UserSession).where(
            UserSession.id == session_id,
            UserSession.user_id == user.id,  # only one's own: an id from elsewhere is no session
            _live(now, idle_minutes),
        )
    )
    if row is None:
        return False
    row.revoked_at = now
    audit.record("session_ended", user, summary=_describe(row))
    return True


def end_others(user: User) -> int:
    """End all the user's sessions but this one; how many were ended."""
    ended = revoke_sessions(user, keep=user.session_token)
    audit.record("sessions_ended", user, summary=f"{user.email} ({ended})")
    return ended
