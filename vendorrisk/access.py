"""Who may use which route: every view declares it, and one hook enforces it (deny by default)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from vendorrisk.extensions import login_manager
from vendorrisk.models import Role

ALL_ROLES = frozenset(Role)
#: Everyone with a login may read; the auditor only reads.
READERS = ALL_ROLES
#: Those who keep the supplier register.
REGISTER_EDITORS = frozenset({Role.admin, Role.procurement})
ADMINS = frozenset({Role.admin})
#: Who reviews submitted answers and raises findings.
REVIEWERS = frozenset({Role.admin, Role.reviewer, Role.ciso})
#: Who follows findings up (the supplier's owner in procurement too).
FINDING_EDITORS = frozenset({Role.admin, Role.reviewer, Role.ciso, Role.procurement})
#: Who may accept a residual risk (残留リスク).
RISK_APPROVERS = frozenset({Role.ciso})
#: Who may offboard a supplier whose offboarding checklist still has open steps (an exception,
#: with a reason; services.register.offboarding.EXCEPTION_ROLES checks the same).
OFFBOARDING_APPROVERS = frozenset({Role.admin, Role.ciso})
#: Who may set a supplier's tier by hand.
TIER_EDITORS = frozenset({Role.admin, Role.procurement, Role.ciso})
#: Who may read the settings (tier rules, cadences); only admins change them.
SETTINGS_READERS = frozenset({Role.admin, Role.ciso, Role.auditor})
#: Who answers the company's own Appendix A self-assessment and runs its PDCA cycles.
SELF_ASSESSMENT_EDITORS = frozenset({Role.admin, Role.ciso, Role.reviewer})
#: Who may import suppliers from a file (as for editing the register).
IMPORTERS = REGISTER_EDITORS
#: Who may read the audit log.
AUDIT_READERS = frozenset({Role.admin, Role.auditor, Role.ciso})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Routes a logged-in user with a one-time password may still use.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "auth.set_language"})


@dataclass(frozen=True)
class AccessRule:
    """Roles allowed to read (GET/HEAD) and to change (other methods); public needs no login."""

    read: frozenset[Role]
    write: frozenset[Role]
    public: bool = False
    #: For supplier contacts holding a portal sitting (checked by the portal blueprint).
    portal: bool = False

    def allows(self, role: Role | None, method: str) -> bool:
        if self.public:
            return True
        if self.portal:
            return False
        if role is None:
            return False
        return role in (self.read if method in SAFE_METHODS else self.write)


def access(
    read: Iterable[Role] | None = None, write: Iterable[Role] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the roles of a view; `read` defaults to `write` (a form page)."""
    write_set = frozenset(write or ())
    read_set = frozenset(read) if read is not None else write_set

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.access_rule = AccessRule(read=read_set, write=write_set)
        return view

    return decorate


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a view open to everyone (login page, health check, supplier portal)."""
    view.access_rule = AccessRule(frozenset(), frozenset(), public=True)
    return view


def portal_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Declare a view of the supplier portal: only a sitting opened from an emailed link."""
    view.access_rule = AccessRule(frozenset(), frozenset(), portal=True)
    return view


def rule_for(endpoint: str) -> AccessRule | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def enforce_access() -> Any:
    """before_request: refuse any route without a rule, and any role the rule does not name."""
    if request.endpoint is None:
        return None  # 404/405 follow
    rule = rule_for(request.endpoint)
    if rule is None:
        abort(403)
    if rule.public or rule.portal:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password", next=request.full_path))
    if not rule.allows(current_user.role, request.method):
        abort(403)
    return None


def register(app: Flask) -> None:
    app.view_functions["static"].access_rule = AccessRule(frozenset(), frozenset(), public=True)
    app.before_request(enforce_access)
