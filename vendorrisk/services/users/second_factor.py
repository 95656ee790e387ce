"""The second factor of a staff login: TOTP codes (RFC 6238, pyotp) and one-time recovery codes.

- The TOTP secret is made here (CSPRNG, 160 bits), shown once as a QR code drawn on the server
  (segno) and as text, and stored encrypted (Fernet, with a key derived from SECRET_KEY by HKDF):
  a copy of the database alone does not give anyone the codes. Rotating SECRET_KEY therefore
  switches every second factor off in effect: an admin resets them (`reset`).
- A code is accepted once: the time-step of the last accepted code is kept, and a code of that
  step or an earlier one is refused (a replay), also when two requests race.
- Wrong codes are counted on the account, whichever address they come from: after MAX_FAILURES
  the account takes no code for LOCK_MINUTES (audited). The count is an atomic UPDATE, so parallel
  guesses cannot all slip past it, and it holds whatever the rate-limit storage is.
- Recovery codes carry 120 random bits each: their SHA-256 is enough (ASVS 6.5.2 asks for a slow,
  salted hash only below 112 bits), and lets a code be found by one indexed lookup.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from vendorrisk.errors import ServiceError
from vendorrisk.extensions import db
from vendorrisk.models import RecoveryCode, Role, Setting, User
from vendorrisk.models.mixins import hash_token
from vendorrisk.models.setting import save as save_setting
from vendorrisk.services import audit, sealing
from vendorrisk.services.users.sessions import revoke_sessions

#: Wrong codes in a row before the account takes no code for a while.
MAX_FAILURES = 5
LOCK_MINUTES = 15
#: Codes of the step before and after the server's are accepted too: a phone's clock drifts.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
#: 24 characters of base32: 120 bits.
_RECOVERY_LENGTH = 24
_TOTP_CODE = re.compile(r"\d{6}")
SETTINGS_KEY = "security"
#: The roles the "second factor required" setting applies to.
REQUIRED_ROLES = frozenset({Role.admin, Role.ciso})


class SecondFactorError(ServiceError):
    """A user-facing refusal; its message is translated."""


class Check(StrEnum):
    """What became of one code."""

    accepted = "accepted"
    wrong = "wrong"
    #: This code was wrong and was the last try allowed: the account now waits.
    throttled = "throttled"
    #: The account is waiting after too many wrong codes: nothing was checked.
    locked = "locked"


# --- the secret, at rest and on screen ---------------------------------------------------------


#: The HKDF purpose of the TOTP secrets' key (services.sealing).
_PURPOSE = b"vendorrisk totp secret v1"


def seal(secret: str) -> str:
    """The secret encrypted for storage (and for the enrolment form's round trip)."""
    return sealing.seal(secret, _PURPOSE)


def unseal(sealed: str | None, max_age: int | None = None) -> str | None:
    """The secret, or None when there is none, it was sealed under another SECRET_KEY, was
    altered, or (with `max_age`, in seconds) was sealed longer ago than that."""
    return sealing.unseal(sealed, _PURPOSE, max_age)


def new_secret() -> str:
    """A fresh TOTP secret: 32 base32 characters (160 bits) from the OS CSPRNG."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI the QR code holds: named after this site, so two instances differ."""
    host = urlsplit(current_app.config["BASE_URL"]).hostname or ""
    issuer = f"vendorrisk {host}".strip()
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code as inline SVG (no script, no style attribute: the strict CSP holds)."""
    qr = segno.make(uri, error="m")
    # segno draws paths from our own URI and escapes the title: no untrusted markup goes in.
    svg = qr.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=title)
    return Markup(svg)  # noqa: S704  # nosec B704


def grouped(secret: str) -> str:
    """A secret or recovery code in groups of four, for reading and typing."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


# --- checking a code ---------------------------------------------------------------------------


def _step_of(secret: str, code: str, now: datetime) -> int | None:
    """The time-step whose code this is (around `now`, the server's clock), or None."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(user: User, step: int) -> bool:
    """Record `step` as used, unless it or a later one already was (atomic: races lose)."""
    table = User.__table__
    claimed = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == user.id,
            sa.or_(table.c.mfa_last_step.is_(None), table.c.mfa_last_step < step),
        )
        .values(mfa_last_step=step)
    )
    db.session.expire(user, ["mfa_last_step"])
    return claimed.rowcount == 1


def _totp_accepted(user: User, secret: str | None, code: str, now: datetime) -> bool:
    if secret is None or not _TOTP_CODE.fullmatch(code):
        return False
    step = _step_of(secret, code, now)
    return step is not None and _claim_step(user, step)


def _normalised_recovery(code: str) -> str | None:
    plain = re.sub(r"[\s-]", "", code).lower()
    return plain if len(plain) == _RECOVERY_LENGTH else None


def _recovery_accepted(user: User, code: str, now: datetime) -> bool:
    plain = _normalised_recovery(code)
    if plain is None:
        return False
    table = RecoveryCode.__table__
    used = db.session.execute(
        sa.update(table)
        .where(
            table.c.user_id == user.id,
            table.c.token_hash == hash_token(plain),
            table.c.used_at.is_(None),
        )
        .values(used_at=now)
    )
    if used.rowcount != 1:
        return False
    left = recovery_codes_left(user)
    audit.record("recovery_code_used", user, summary=f"{user.email} ({left} left)")
    return True


def _count_try(user: User, now: datetime) -> int | None:
    """Count this try on the account and return how many in a row, with it; None while the
    account waits. One UPDATE: parallel tries each get their own number."""
    table = User.__table__
    tries = db.session.execute(
        sa.update(table)
        .where(
            table.c.id == user.id,
            sa.or_(table.c.mfa_locked_until.is_(None), table.c.mfa_locked_until <= now),
        )
        .values(mfa_failures=table.c.mfa_failures + 1)
        .returning(table.c.mfa_failures)
    ).scalar()
    db.session.expire(user, ["mfa_failures", "mfa_locked_until"])
    return tries


def _lock(user: User, now: datetime) -> None:
    user.mfa_failures = 0
    user.mfa_locked_until = now + timedelta(minutes=LOCK_MINUTES)
    audit.record("second_factor_throttled", user, summary=user.email)


def check_code(
    user: User, code: str, now: datetime, *, secret: str | None = None, recovery: bool = True
) -> Check:
    """Check a TOTP code (or, with `recovery`, a recovery code) for `user`, counting wrong ones;
    `secret` is the one being enrolled, else the user's own. Every refusal is audited."""
    tries = _count_try(user, now)
    if tries is None:
        audit.record("second_factor_refused", user, summary=f"{user.email} (waiting)")
        return Check.locked
    if tries <= MAX_FAILURES:
        code = (code or "").strip()[:64]
        secret = secret or unseal(user.mfa_secret)
        if _totp_accepted(user, secret, code, now) or (
            recovery and _recovery_accepted(user, code, now)
        ):
            user.mfa_failures = 0
            return Check.accepted
        audit.record("second_factor_failed", user, summary=user.email)
    if tries >= MAX_FAILURES:
        _lock(user, now)
        return Check.throttled
    return Check.wrong


# --- switching it on and off -------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolled:
    """What is shown once when the second factor is switched on."""

    recovery_codes: list[str]


def _issue_recovery_codes(user: User, now: datetime) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    codes = [
        "".join(secrets.choice(alphabet) for _ in range(_RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, token_hash=hash_token(code), created_at=now) for code in codes
    )
    return [grouped(code).replace(" ", "-") for code in codes]


def enrol(user: User, sealed: str, code: str, now: datetime) -> Enrolled | Check:
    """Switch TOTP on with the secret shown (`sealed`) once `code` proves the app holds it.

    Returns the recovery codes (shown once), or the Check of a code that was not accepted.
    """
    secret = unseal(sealed)
    if secret is None:
        raise SecondFactorError(_l("The enrolment expired. Scan the new QR code and try again."))
    if user.mfa_enabled_at is not None:
        raise SecondFactorError(_l("Two-step login is already on."))
    result = check_code(user, code, now, secret=secret, recovery=False)
    if result is not Check.accepted:
        return result
    user.mfa_secret = sealed
    user.mfa_enabled_at = now
    codes = _issue_recovery_codes(user, now)
    revoke_sessions(user, keep=user.session_token)  # a factor changed: every other login ends
    audit.record("second_factor_enabled", user, summary=user.email)
    return Enrolled(recovery_codes=codes)


def _switch_off(user: User) -> None:
    user.mfa_secret = None
    user.mfa_enabled_at = None
    user.mfa_last_step = None
    user.mfa_failures = 0
    user.mfa_locked_until = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def disable(user: User, code: str, now: datetime) -> Check:
    """Switch the user's own second factor off with a valid code (the form checked the password)."""
    if user.mfa_enabled_at is None:
        raise SecondFactorError(_l("Two-step login is not on."))
    if required_for(user):
        raise SecondFactorError(_l("Your role must use two-step login: it cannot be switched off."))
    result = check_code(user, code, now)
    if result is Check.accepted:
        _switch_off(user)
        revoke_sessions(user, keep=user.session_token)
        audit.record("second_factor_disabled", user, summary=user.email)
    return result


def reset(user: User) -> None:
    """An admin switches someone's second factor off (a lost phone); their logins all end."""
    _switch_off(user)
    revoke_sessions(user)
    audit.record("second_factor_reset", user, summary=user.email)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


# --- who must have it --------------------------------------------------------------------------


def required_for_admins() -> bool:
    """The setting: admins and CISOs must use a second factor."""
    row = db.session.get(Setting, SETTINGS_KEY)
    return bool(row and row.value.get("second_factor_for_admins"))


def save_required_for_admins(required: bool, seen: str | None = None) -> None:
    """Store the setting (version-checked like every setting; audited)."""
    save_setting(SETTINGS_KEY, {"second_factor_for_admins": bool(required)}, seen)


def required_for(user: User) -> bool:
    """Users of single sign-on are never asked: the provider does MFA by its own rules."""
    return user.role in REQUIRED_ROLES and not user.uses_sso and required_for_admins()


def must_enrol(user: User) -> bool:
    """The user may do nothing until they switch their second factor on."""
    return user.mfa_enabled_at is None and required_for(user)
