"""Single sign-on: the account of a person the company's OpenID provider vouched for.

A user is linked by the provider's issuer and subject (`sub`), never by email alone: an email
address can be renamed, reused or (at some providers) typed in by the user. The one exception,
taken once: a local account with the same address is linked to the first sign-in whose provider
states that address verified (`email_verified`, or Entra ID's `xms_edov`); that account then
loses its password and signs in through the provider only. The groups decide the role on every
sign-in (sso_roles.grant_for); a sign-in without a mapped group is refused, and an account
linked to it is deactivated: the provider is where access is taken away.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from vendorrisk.extensions import db
from vendorrisk.models import AuthSource, Role, User
from vendorrisk.services import audit
from vendorrisk.services.users import accounts, sessions, units
from vendorrisk.services.users.sso_roles import Grant, grant_for, groups_of

NO_GROUP = _l(
    "Your account at %(provider)s is not in a group that may use vendorrisk. Please ask your "
    "administrator to add you to one."
)
INACTIVE = _l("Your vendorrisk account is deactivated. Please ask an administrator.")
EMAIL_TAKEN = _l(
    "A vendorrisk account with your email address already exists and could not be linked to "
    "%(provider)s safely. Please ask an administrator."
)
NO_EMAIL = _l("%(provider)s did not give your email address. Please ask your administrator.")


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from the ID token's (and userinfo's) claims."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str
    groups: frozenset[str]


@dataclass(frozen=True)
class SignIn:
    """What a sign-in gave: the user, or the message refusing it and its HTTP status."""

    user: User | None = None
    refusal: str = ""
    status: int = 200


def identity_from_claims(claims: Mapping, groups_claim: str) -> Identity:
    """The identity in validated claims (the ID token's, userinfo's added where it lacked)."""
    email = claims.get("email") or ""
    if not email and "@" in str(claims.get("preferred_username") or ""):
        email = claims["preferred_username"]  # Entra ID without the optional email claim
    return Identity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        email=str(email).strip().lower()[:254],
        email_verified=claims.get("email_verified") is True or claims.get("xms_edov") is True,
        name=str(claims.get("name") or "").strip()[:200],
        groups=groups_of(claims.get(groups_claim)),
    )


def linked_user(identity: Identity) -> User | None:
    """The account linked to this issuer and subject, if any."""
    return db.session.scalar(
        sa.select(User).where(
            User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject
        )
    )


def sign_in(
    identity: Identity,
    role_map: Mapping[str, Role],
    provider: str,
    locale: str | None = None,
    unit_map: Mapping[str, frozenset[str]] | None = None,
) -> SignIn:
    """The account to log in for this identity (made, linked or updated), or the refusal."""
    grant = grant_for(identity.groups, role_map, unit_map)
    user = linked_user(identity)
    if grant is None:
        return _refuse_ungrouped(identity, user, provider)
    if user is None:
        return _first_sign_in(identity, grant, provider, locale)
    if not user.active:
        audit.record("sso_refused", user, summary=f"{identity.email}: inactive")
        return SignIn(refusal=str(INACTIVE), status=403)
    _update(user, identity, grant)
    return SignIn(user=user)


def _refuse_ungrouped(identity: Identity, user: User | None, provider: str) -> SignIn:
    """No mapped group: refused, and a linked account deactivated (its sessions ended)."""
    if user is not None and user.active:
        user.active = False
        ended = sessions.revoke_sessions(user)
        audit.record("sso_deactivated", user, summary=f"{user.email}: no mapped group ({ended})")
    groups = ", ".join(sorted(identity.groups))[:200] or "-"
    audit.record("sso_refused", user, summary=f"{identity.email}: no mapped group in {groups}")
    return SignIn(refusal=str(NO_GROUP % {"provider": provider}), status=403)


def _first_sign_in(identity: Identity, grant: Grant, provider: str, locale: str | None) -> SignIn:
    """Make the account, or link the local one of the same verified address; else refuse."""
    if not identity.email:
        audit.record("sso_refused", summary=f"{identity.subject}: no email")
        return SignIn(refusal=str(NO_EMAIL % {"provider": provider}), status=403)
    existing = accounts.find_by_email(identity.email)
    if existing is None:
        return SignIn(user=_create(identity, grant, locale))
    if not existing.active:
        audit.record("sso_refused", existing, summary=f"{identity.email}: inactive")
        return SignIn(refusal=str(INACTIVE), status=403)
    if existing.oidc_subject is None and identity.email_verified:
        _link(existing, identity, grant)
        return SignIn(user=existing)
    audit.record("sso_refused", existing, summary=f"{identity.email}: address taken, not linked")
    return SignIn(refusal=str(EMAIL_TAKEN % {"provider": provider}), status=409)


def _create(identity: Identity, grant: Grant, locale: str | None) -> User:
    user = User(
        email=identity.email,
        name=identity.name,
        role=grant.role,
        locale=locale,
        auth_source=AuthSource.oidc,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
        password_hash=None,
        must_change_password=False,
    )
    db.session.add(user)
    db.session.flush()
    _set_units(user, grant)
    return user


def _link(user: User, identity: Identity, grant: Grant) -> None:
    """The local account becomes the provider's: no password, and its other sessions end."""
    user.auth_source = AuthSource.oidc
    user.oidc_issuer, user.oidc_subject = identity.issuer, identity.subject
    user.password_hash = None
    user.must_change_password = False
    user.password_expires_at = None
    sessions.revoke_sessions(user)
    audit.record("sso_linked", user, summary=f"{user.email} {identity.issuer}")
    _update(user, identity, grant)


def _update(user: User, identity: Identity, grant: Grant) -> None:
    """The provider is the source of truth: the role, the units (when mapped), the name, and
    a free new address."""
    user.role = grant.role
    _set_units(user, grant)
    if identity.name:
        user.name = identity.name
    moved = identity.email and identity.email != user.email
    if moved and accounts.find_by_email(identity.email) is None:
        user.email = identity.email


def _set_units(user: User, grant: Grant) -> None:
    """The units the groups name (codes of no unit here are left out); untouched without a map."""
    if grant.unit_codes is None:
        return
    known = {unit.code.lower(): unit.id for unit in units.all_units()}
    units.set_units(user, {known[c.lower()] for c in grant.unit_codes if c.lower() in known})
