"""Test factories: an assessment, its answers and invitations, a finding.

Each fills in what a test does not care about, takes any model field as a keyword to say what it
does care about, adds the row to the session of the current app context and returns it. Only
`make_assessment` flushes (its id is what the others need); the test commits. The supplier,
contact and user factories are fixtures in conftest.py (they commit and detach their rows).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, date, datetime
from typing import Any

from vendorrisk.extensions import db
from vendorrisk.models import (
    Answer,
    Assessment,
    AssessmentStatus,
    Finding,
    Invitation,
    Severity,
)

#: The supplier questionnaire, which most tests send.
TEMPLATE_ID = "csm-v2-supplier"

_SERIAL = itertools.count(1)


def _parent(name: str, obj: Any) -> dict[str, Any]:
    """`{name}_id` when the row has an id (a detached one from a fixture too), else the
    relationship, so that a parent made in the same session needs no flush first."""
    if isinstance(obj, int):
        return {f"{name}_id": obj}
    return {f"{name}_id": obj.id} if obj.id is not None else {name: obj}


def make_assessment(supplier: Any, template: Any = None, **fields: Any) -> Assessment:
    """An assessment of `supplier` on `template` (a catalog template; by default version 1 of
    the supplier questionnaire), sent and due 2030-01-01 unless `fields` say otherwise."""
    assessment = Assessment(
        **_parent("supplier", supplier)
        | {
            "template_id": template.id if template is not None else TEMPLATE_ID,
            "template_version": template.version if template is not None else 1,
            "due_on": date(2030, 1, 1),
            "status": AssessmentStatus.sent,
        }
        | fields
    )
    db.session.add(assessment)
    db.session.flush()
    return assessment


def make_answer(assessment: Any, question_id: str, value: Any = "yes", **fields: Any) -> Answer:
    """The stored answer of one question of `assessment`."""
    answer = Answer(
        **_parent("assessment", assessment) | {"question_id": question_id, "value": value} | fields
    )
    db.session.add(answer)
    return answer


def make_invitation(assessment: Any, contact: Any = None, **fields: Any) -> Invitation:
    """The emailed access of `contact` (or of x@example.jp) to `assessment`, valid until 2030,
    with a token hash of its own unless `fields` give one (the portal tests give the hash of
    the token they open)."""
    serial = next(_SERIAL)
    invitation = Invitation(
        **_parent("assessment", assessment)
        | (_parent("contact", contact) if contact is not None else {})
        | {
            "email": contact.email if contact is not None else "x@example.jp",
            "token_hash": hashlib.sha256(f"invitation-{serial}".encode()).hexdigest(),
            "expires_at": datetime(2030, 1, 2, tzinfo=UTC),
        }
        | fields
    )
    db.session.add(invitation)
    return invitation


def make_finding(supplier: Any, **fields: Any) -> Finding:
    """An open, high-severity finding on `supplier` (`assessment=` to tie it to a review)."""
    finding = Finding(
        **_parent("supplier", supplier) | {"title": "指摘事項", "severity": Severity.high} | fields
    )
    db.session.add(finding)
    return finding
