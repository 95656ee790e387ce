"""One login attempt: its delay first, then the password, then the one-time password's expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.models import User
from vendorrisk.services import audit
from vendorrisk.services.users import accounts, throttle

WRONG = _l("The email address or password is not correct.")
EXPIRED = _l(
    "Your one-time password has expired. Please ask an administrator for a new one "
    "(or use \u201cForgot your password?\u201d)."
)


@dataclass(frozen=True)
class Attempt:
    """What a login attempt gave: the user, or the message refusing it and its HTTP status."""

    user: User | None = None
    refusal: str = ""
    status: int = 200


def _throttled_message(minutes: int) -> str:
    return str(
        _l(
            "Too many failed logins for this account. Please wait %(minutes)d minutes and try "
            "again, or ask an administrator to unlock it.",
            minutes=minutes,
        )
    )


def attempt(email: str, password: str, address: str | None, now: datetime | None = None) -> Attempt:
    """Check one login (throttled, wrong, expired, or right), counting and auditing it."""
    now = now or clock.now()
    account, address = email.strip().lower()[:254], (address or "")[:45]
    user = accounts.find_by_email(account)
    waited = throttle.wait(
        account, address, now, known=throttle.known_address(user.id if user else 0, address, now)
    )
    if waited:
        throttle.throttled(account, address, waited)
        return Attempt(refusal=_throttled_message(throttle.minutes_of(waited)), status=429)
    user = accounts.authenticate(account, password)
    if user is None:
        throttle.failed(account, address, now)
        audit.record("login_failed", summary=account)
        return Attempt(refusal=str(WRONG))
    throttle.succeeded(account, address)
    if accounts.password_expired(user, now):
        audit.record("login_expired_password", user, summary=user.email)
        return Attempt(refusal=str(EXPIRED))
    return Attempt(user=user)
