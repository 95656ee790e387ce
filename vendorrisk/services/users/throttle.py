"""Login throttling on failures: per account, per address and per both, with a growing delay.

Only failed logins count; each count is kept in `login_throttles` (LoginThrottle), in the
database every worker shares, with the `now` of the attempt. After `AFTER[scope]` failures in a
row, the next attempt has to wait BASE, then twice as long after each further failure, at most
CAP, counted from the latest failure. A throttled attempt checks no password, counts nothing and
is audited ("login_throttled"); a success ends the account's and the pair's counts.

The owner against an attacker who hammers their account from elsewhere: the attacker's own
address is slowed by the pair and address counts; the account count (many addresses guessing one
password) is not applied to an address the owner logged in from in the last KNOWN_FOR, so the
owner's right password from their usual address still works at once. From a new address the
owner waits out the account's delay (at most CAP) or asks an admin to unlock. The trade-off: an
attacker sharing the owner's usual address (the same office NAT) escapes the account count, yet
still meets the pair and address ones there.

Not flask-limiter's storage: it counts hits in windows, while the delay needs the time of the
latest failure and the count together, an admin's unlock and status on the user page, and
a `now` for tests; the database already holds the same truth for every worker and host.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vendorrisk.extensions import db
from vendorrisk.models import LoginThrottle, ThrottleScope, User, UserSession
from vendorrisk.services import audit

#: Failures in a row allowed before the delay starts, by what is counted. An address serves a
#: whole office behind one NAT, so it gets more.
AFTER = {ThrottleScope.account: 5, ThrottleScope.pair: 5, ThrottleScope.address: 20}
#: The first delay; it doubles with each further failure, up to CAP.
BASE = timedelta(seconds=30)
CAP = timedelta(minutes=15)
#: A count left without a failure this long starts again from nothing.
FORGET_AFTER = timedelta(hours=24)
#: An address the account logged in from this recently is the owner's usual one.
KNOWN_FOR = timedelta(days=90)


def delay(scope: ThrottleScope, failures: int) -> timedelta:
    """How long to wait after the latest of `failures` failures in a row."""
    beyond = failures - AFTER[scope]
    if beyond < 0:
        return timedelta(0)
    return min(CAP, BASE * 2 ** min(beyond, 16))


def _counts(account: str, address: str) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(LoginThrottle.scope == ThrottleScope.account, LoginThrottle.account == account),
        sa.and_(LoginThrottle.scope == ThrottleScope.address, LoginThrottle.address == address),
        sa.and_(
            LoginThrottle.scope == ThrottleScope.pair,
            LoginThrottle.account == account,
            LoginThrottle.address == address,
        ),
    )


def known_address(user_id: int, address: str, now: datetime) -> bool:
    """Whether the user logged in from `address` lately (their usual place); asked for unknown
    accounts too (id 0), so that the time taken tells nothing."""
    return bool(
        db.session.scalar(
            sa.select(
                sa.exists().where(
                    UserSession.user_id == user_id,
                    UserSession.ip == address,
                    UserSession.created_at >= now - KNOWN_FOR,
                )
            )
        )
    )


def wait(account: str, address: str, now: datetime, *, known: bool = False) -> timedelta:
    """How long this attempt still has to wait (zero: it may go ahead)."""
    rows = db.session.scalars(
        sa.select(LoginThrottle).where(
            _counts(account, address), LoginThrottle.last_failure_at >= now - FORGET_AFTER
        )
    )
    waits = [
        row.last_failure_at + delay(row.scope, row.failures) - now
        for row in rows
        if not (known and row.scope == ThrottleScope.account)
    ]
    return max([timedelta(0), *waits])


def _count(scope: ThrottleScope, account: str, address: str, now: datetime) -> None:
    """One more failure for this count (INSERT … ON CONFLICT: two workers never lose one)."""
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = LoginThrottle.__table__
    stmt = insert(table).values(
        scope=scope, account=account, address=address, failures=1, last_failure_at=now
    )
    stale = table.c.last_failure_at < now - FORGET_AFTER
    stmt = stmt.on_conflict_do_update(
        index_elements=["scope", "account", "address"],
        set_={
            "failures": sa.case((stale, 1), else_=table.c.failures + 1),
            "last_failure_at": now,
        },
    )
    db.session.execute(stmt)


def failed(account: str, address: str, now: datetime) -> None:
    """Count a failed login for the account, the address and both."""
    _count(ThrottleScope.account, account, "", now)
    _count(ThrottleScope.address, "", address, now)
    _count(ThrottleScope.pair, account, address, now)
    db.session.execute(
        sa.delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - FORGET_AFTER)
    )


def succeeded(account: str, address: str) -> None:
    """The right password: the account's count and this address's pair count start afresh."""
    db.session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.account == account,
            sa.or_(
                LoginThrottle.scope == ThrottleScope.account,
                sa.and_(
                    LoginThrottle.scope == ThrottleScope.pair, LoginThrottle.address == address
                ),
            ),
        )
    )


def throttled(account: str, address: str, waited: timedelta) -> None:
    """Audit an attempt refused for its delay (no password was checked)."""
    minutes = minutes_of(waited)
    audit.record(
        "login_throttled",
        summary=f"{account} from {address} (wait {minutes} min)",
        changes={"account": account, "address": address, "wait_minutes": minutes},
    )


def minutes_of(waited: timedelta) -> int:
    return max(1, math.ceil(waited.total_seconds() / 60))


def locked_until(account: str, now: datetime) -> datetime | None:
    """Until when logins to the account from a new address wait (for the admin), or None."""
    row = db.session.scalar(
        sa.select(LoginThrottle).where(
            LoginThrottle.scope == ThrottleScope.account,
            LoginThrottle.account == account,
            LoginThrottle.last_failure_at >= now - FORGET_AFTER,
        )
    )
    if row is None or (until := row.last_failure_at + delay(row.scope, row.failures)) <= now:
        return None
    return until


def forget(account: str) -> int:
    """End the account's counts, from every address; how many there were."""
    result = db.session.execute(
        sa.delete(LoginThrottle).where(
            LoginThrottle.account == account,
            LoginThrottle.scope.in_([ThrottleScope.account, ThrottleScope.pair]),
        )
    )
    return result.rowcount or 0


def unlock(user: User) -> int:
    """An admin's unlock: the account may be logged in to at once from anywhere (audited)."""
    ended = forget(user.email)
    audit.record("login_unlocked", user, summary=f"{user.email} ({ended})")
    return ended
