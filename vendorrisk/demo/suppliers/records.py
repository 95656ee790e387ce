"""Builders of the demo suppliers' nested records: contracts and attestations.

Their date fields hold day offsets from today; demo/register.py turns them into dates on loading.
"""

from __future__ import annotations

from typing import Any

from vendorrisk.models import CONTRACT_CLAUSES, AttestationKind, SecurityActionLevel

#: Certification bodies and (fictional) insurers.
BSI = "BSIグループジャパン株式会社"
JQA = "一般財団法人日本品質保証機構"
JIPDEC = "一般財団法人日本情報経済社会推進協会"
ISMAP = "ISMAP運営委員会"
HARUKAZE = "はるかぜ損害保険株式会社"
MIZUNAMI = "みずなみ損害保険株式会社"

#: Every clause but the incident notification one, which follows from the notification hours.
_CLAUSES = tuple(c for c in CONTRACT_CLAUSES if c != "clause_incident_notification")


def _without(*missing: str) -> tuple[str, ...]:
    return tuple(c for c in _CLAUSES if c.removeprefix("clause_") not in missing)


#: Direction 9 clause sets of the demo contracts (incident notification comes from `hours`).
CLAUSE_SETS = {
    "full": _CLAUSES,
    "no_audit": _without("audit_rights"),
    "no_subcontracting": _without("subcontracting_approval"),
    "no_audit_subcontracting": _without("audit_rights", "subcontracting_approval"),
    "standard": _without("audit_rights", "subcontracting_approval", "cyber_insurance"),
    "cloud_terms": ("clause_security_requirements", "clause_data_return_deletion"),
    "nda": ("clause_data_return_deletion",),
    "trade": (),
}


def contract(
    title: str,
    clauses: str,
    *,
    starts: int,
    ends: int | None = None,
    hours: int | None = None,
    notes: str = "",
) -> dict[str, Any]:
    fields = {c: c in CLAUSE_SETS[clauses] for c in _CLAUSES}
    return fields | {
        "title": title,
        "starts_on": starts,
        "ends_on": ends,
        "notes": notes,
        "clause_incident_notification": hours is not None,
        "incident_notification_hours": hours,
    }


def security_action(level: str, identifier: str, *, issued: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.security_action,
        "level": SecurityActionLevel(level),
        "identifier": identifier,
        "issued_on": issued,
        "expires_on": None,
    }


def isms(
    identifier: str, issuer: str, scope: str, *, expires: int, covers_service: bool = True
) -> dict[str, Any]:
    """ISMS (ISO/IEC 27001): certificates run for three years; the demo's scopes cover the
    services they give us unless said otherwise."""
    return {
        "kind": AttestationKind.isms,
        "identifier": identifier,
        "issuer": issuer,
        "scope": scope,
        "covers_service": covers_service,
        "issued_on": expires - 3 * 365,
        "expires_on": expires,
    }


def pmark(identifier: str, scope: str, *, expires: int) -> dict[str, Any]:
    """Privacy Mark: granted for two years."""
    return {
        "kind": AttestationKind.pmark,
        "identifier": identifier,
        "issuer": JIPDEC,
        "scope": scope,
        "issued_on": expires - 2 * 365,
        "expires_on": expires,
    }


def ismap(identifier: str, scope: str, *, issued: int, expires: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.ismap,
        "identifier": identifier,
        "issuer": ISMAP,
        "scope": scope,
        "issued_on": issued,
        "expires_on": expires,
    }


def soc2(identifier: str, issuer: str, scope: str, *, issued: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.soc2,
        "identifier": identifier,
        "issuer": issuer,
        "scope": scope,
        "issued_on": issued,
        "expires_on": None,
    }


def cyber_insurance(issuer: str, policy: str, limit_jpy: int, *, expires: int) -> dict[str, Any]:
    """Cyber insurance: one-year policies."""
    return {
        "kind": AttestationKind.cyber_insurance,
        "identifier": policy,
        "issuer": issuer,
        "coverage_limit_jpy": limit_jpy,
        "issued_on": expires - 365,
        "expires_on": expires,
    }


def other(name: str, identifier: str, issuer: str, scope: str, *, expires: int) -> dict[str, Any]:
    return {
        "kind": AttestationKind.other,
        "name": name,
        "identifier": identifier,
        "issuer": issuer,
        "scope": scope,
        "issued_on": expires - 3 * 365,
        "expires_on": expires,
    }
