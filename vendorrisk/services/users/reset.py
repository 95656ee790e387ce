"""Password reset by e-mail for staff: a single-use, short-lived link, stored only as a hash.

Whoever asks gets the same answer whether the address belongs to an account or not, in the same
time: the request is only taken (`ask`); looking the address up, storing and mailing a link for
an active account, and auditing the request either way happen once the response has gone out
(ASVS 6.4.1; no enumeration, 6.4.2/6.4.3). Using the link
sets a password the policy accepts, ends every session of the user and audits it; it does not log
in, so that a second factor, where one is set, is still asked at the login.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, after_this_request, current_app
from flask_babel import lazy_gettext as _l

from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.mail import messages, outbox
from vendorrisk.models import OutboxMessage, PasswordReset, User
from vendorrisk.services import audit
from vendorrisk.services.users import accounts, throttle

LINK_UNUSABLE = _l(
    "This link to set a new password is no longer valid: it has been used, replaced by a newer "
    "one or has expired. Please ask for a new link."
)


def reset_link(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/auth/reset/{token}"


def ask(email: str, address: str | None) -> None:
    """Take a request for a link; `request_reset` runs once the response has gone out."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    later = functools.partial(
        _after_response, app, audit.current_actor(), email, address, clock.now()
    )

    @after_this_request
    def run_on_close(response):
        response.call_on_close(later)  # the WSGI server calls it once the response is sent
        return response


def _after_response(app: Flask, actor: audit.Actor, *request: Any) -> None:
    """Make and mail the link in its own transaction, then hand the mail over; never raises."""
    try:
        with app.app_context(), audit.acting_as(actor):
            mail = request_reset(*request)
            db.session.commit()
            if mail is not None:
                outbox.deliver_pending(limit=1, only=[mail.id], budget=outbox.WEB_BUDGET)
    except Exception:  # the request was answered already; the user may simply ask again
        app.logger.exception("A password reset link could not be made or mailed")


def request_reset(
    email: str, address: str | None, now: datetime | None = None
) -> OutboxMessage | None:
    """Mail a reset link to the active account with this email (the mail queued); to any other
    address, nothing."""
    now = now or clock.now()
    email = email.strip().lower()[:254]
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    row = PasswordReset(created_at=now, expires_at=now + timedelta(minutes=minutes), ip=address)
    token = row.issue_token()  # drawn and hashed for every address: the same work
    user = accounts.find_by_email(email)
    if user is None or not user.active or user.uses_sso or user.service_account:  # no password
        audit.record("password_reset_requested", summary=email)
        return None
    _cut_short(user, now)
    row.user = user
    db.session.add(row)
    db.session.flush()
    audit.record("password_reset_requested", user, summary=email)
    return messages.password_reset(row, reset_link(token))


def _cut_short(user: User, now: datetime) -> None:
    """A new link replaces the user's earlier ones still open."""
    db.session.execute(
        sa.update(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.used_at.is_(None),
            PasswordReset.expires_at > now,
        )
        .values(expires_at=now)
    )


def usable(token: str, now: datetime | None = None) -> PasswordReset | None:
    """The reset a link's token belongs to, while it may still be used; else None."""
    row = db.session.scalar(PasswordReset.with_token(token))
    if row is None or row.user.uses_sso:  # linked to single sign-on since: no password to set
        return None
    return row if row.usable_at(now or clock.now()) else None


def complete(token: str, password: str, now: datetime | None = None) -> User:
    """Set the user's new password through the link, once; every session of theirs ends."""
    now = now or clock.now()
    row = usable(token, now)
    claimed = (
        row is not None
        and db.session.execute(
            sa.update(PasswordReset)
            .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
            .values(used_at=now)
        ).rowcount
    )
    if not claimed:  # a second use racing the first finds it claimed
        raise accounts.UserError(LINK_UNUSABLE)
    accounts.set_password(row.user, password)
    throttle.forget(row.user.email)  # who reads the mailbox need not wait out a delay
    audit.record("password_reset", row.user, summary=row.user.email)
    return row.user
