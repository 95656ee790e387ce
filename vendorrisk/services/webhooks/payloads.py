"""The data of each event: plain JSON with ids, the stored values (not labels) and a link to the
object's page (BASE_URL). Each builder reads attributes only, so a job's plain rows
(services.periodic.rows) do as well as models."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app


def link(path: str) -> str:
    """The staff page at `path`, on the configured BASE_URL."""
    return f"{current_app.config['BASE_URL']}{path}"


def _value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


def supplier(supplier: Any) -> dict[str, Any]:
    return {
        "id": supplier.id,
        "name_ja": supplier.name_ja,
        "name_en": supplier.name_en,
        "url": link(f"/suppliers/{supplier.id}"),
    }


def assessment(assessment: Any, with_supplier: Any) -> dict[str, Any]:
    """An assessment's data, with its supplier (None for the company's own)."""
    return {
        "assessment": {
            "id": assessment.id,
            "template_id": assessment.template_id,
            "template_version": assessment.template_version,
            "status": _value(assessment.status),
            "due_on": _value(assessment.due_on),
            "score": getattr(assessment, "score", None),
            "decision": _value(getattr(assessment, "decision", None)),
            "url": link(f"/assessments/{assessment.id}"),
        },
        "supplier": supplier(with_supplier) if with_supplier is not None else None,
    }


def tier_changed(of: Any, previous: str | None, tier: str, source: str) -> dict[str, Any]:
    return {
        "supplier": supplier(of),
        "previous_tier": previous,
        "tier": tier,
        "source": _value(source),
    }


def finding(finding: Any, of: Any) -> dict[str, Any]:
    """A finding's data, with its supplier `of`."""
    return {
        "finding": {
            "id": finding.id,
            "title": finding.title,
            "severity": _value(finding.severity),
            "due_on": _value(finding.due_on),
            "assessment_id": finding.assessment_id,
            "url": link(f"/findings/{finding.id}"),
        },
        "supplier": supplier(of),
    }


def attestation(attestation: Any, of: Any, days_left: int) -> dict[str, Any]:
    """An expiring attestation's data: what it is, when it expires, how many days are left."""
    return {
        "attestation": {
            "id": attestation.id,
            "kind": _value(attestation.kind),
            "name": attestation.name,
            "identifier": attestation.identifier,
            "expires_on": _value(attestation.expires_on),
            "days_left": days_left,
            "url": link(f"/suppliers/{of.id}#attestations"),
        },
        "supplier": supplier(of),
    }


def test(subscription_id: int, sent_by: str) -> dict[str, Any]:
    """The admin's test message, naming who sent it."""
    return {
        "message": "test",
        "sent_by": sent_by,
        "url": link(f"/admin/webhooks/{subscription_id}"),
    }
