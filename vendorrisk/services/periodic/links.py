"""The links a periodic job issues, written together: the new rows in multi-row INSERTs, the
earlier links they replace in one UPDATE each, and their audit events in one INSERT, instead
of an ORM object, a flush and an audit snapshot per link.

The rules are those of one link at a time: a reminder's new invitation is `findings.new_link`'s
(the contact's earlier links to the assessment revoked, the new one living at least as long as
they would have), a renewed-evidence link `evidence_requests.ask_for_evidence`'s (the contact's
open links to the attestation expire, and a link is issued only with its letter). Tokens are
issued as every link's are (`HashedTokenMixin.issue_token`): only their hashes are stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from vendorrisk.extensions import db
from vendorrisk.models import EvidenceRequest, Invitation
from vendorrisk.models.mixins import HashedTokenMixin
from vendorrisk.services import audit
from vendorrisk.services.assessments.lifecycle import invitation_expiry, portal_link
from vendorrisk.services.periodic.rows import AssessmentRow, AttestationRow, ContactRow, LinkRow
from vendorrisk.services.register.evidence_requests import evidence_link, link_expiry

#: Ids per UPDATE of the links replaced.
_CHUNK = 500


def _token() -> tuple[str, str]:
    """A new token and its hash, as every emailed link gets them."""
    holder: Any = SimpleNamespace()
    token = HashedTokenMixin.issue_token(holder)
    return token, holder.token_hash


@dataclass(slots=True)
class RequestRow:
    """An evidence request still open (the columns its replacement changes and names)."""

    id: int
    attestation_id: int
    contact_id: int | None
    email: str
    expires_at: datetime


def open_requests(attestation_ids: sa.Select | list[int], now: datetime):
    """The open evidence links of these attestations, by (attestation, contact): one query."""
    query = sa.select(
        EvidenceRequest.id,
        EvidenceRequest.attestation_id,
        EvidenceRequest.contact_id,
        EvidenceRequest.email,
        EvidenceRequest.expires_at,
    ).where(
        EvidenceRequest.attestation_id.in_(attestation_ids),
        EvidenceRequest.fulfilled_at.is_(None),
        EvidenceRequest.expires_at > now,
    )
    found: dict[tuple[int, int | None], list[RequestRow]] = {}
    for row in db.session.execute(query.order_by(EvidenceRequest.id)):
        found.setdefault((row.attestation_id, row.contact_id), []).append(RequestRow(*row))
    return found


class LinkBatch:
    """The links one run of a job issues and replaces; `write` stores them all."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.new: dict[Any, list[dict[str, Any]]] = {Invitation: [], EvidenceRequest: []}
        #: (model, column) -> the rows changed to `now` there, each with its old value.
        self.ended: dict[tuple[Any, str], list[tuple[Any, Any]]] = {}
        #: The new invitations' rows, with the LinkRow each is (its id set once written).
        self._issued: list[tuple[dict[str, Any], LinkRow]] = []
        self._unwritten: dict[int, dict[str, Any]] = {}

    def invitation(
        self, assessment: AssessmentRow, contact: ContactRow, locale: str, until: date
    ) -> tuple[LinkRow, str]:
        """A contact's own new link to the assessment, valid through `until` (plus the grace
        period); the contact's earlier links to it stop working."""
        expires_at = invitation_expiry(until)
        for old in assessment.invitations:
            if old.contact_id == contact.id and old.revoked_at is None:
                if old.id is None:  # issued in this run, not written yet: written revoked
                    self._unwritten[id(old)]["revoked_at"] = self.now
                else:
                    self._end(Invitation, "revoked_at", old, None)
                old.revoked_at = self.now
                expires_at = max(expires_at, old.expires_at)
        token, token_hash = _token()
        values = {
            "assessment_id": assessment.id,
            "contact_id": contact.id,
            "email": contact.email,
            "locale": locale,
            "created_at": self.now,
            "expires_at": expires_at,
            "token_hash": token_hash,
            "revoked_at": None,
            "first_used_at": None,
            "last_used_at": None,
            "use_count": 0,
        }
        fresh = LinkRow(
            id=None,  # known once written
            assessment_id=assessment.id,
            contact_id=contact.id,
            email=contact.email,
            locale=locale,
            expires_at=expires_at,
            revoked_at=None,
            contact=contact,
            assessment=assessment,
        )
        assessment.invitations.append(fresh)
        self.new[Invitation].append(values)
        self._issued.append((values, fresh))
        self._unwritten[id(fresh)] = values
        return fresh, portal_link(token)

    def evidence_request(
        self,
        attestation: AttestationRow,
        contact: ContactRow,
        older: list[RequestRow],
        send: Callable[[str, datetime], Any],
    ) -> Any:
        """A link that only asks for the renewed evidence, issued if `send(link, valid_until)`
        queues its letter (None: it was queued before); the contact's older links expire."""
        token, token_hash = _token()
        expires_at = link_expiry(attestation, self.now)
        sent = send(evidence_link(token), expires_at)
        if sent is None:
            return None
        for request in older:
            self._end(EvidenceRequest, "expires_at", request, request.expires_at)
            request.expires_at = self.now
        self.new[EvidenceRequest].append(
            {
                "attestation_id": attestation.id,
                "contact_id": contact.id,
                "email": contact.email,
                "locale": contact.locale,
                "created_at": self.now,
                "expires_at": expires_at,
                "token_hash": token_hash,
                "fulfilled_at": None,
                "stored_file_id": None,
            }
        )
        return sent

    def _end(self, model: Any, column: str, row: Any, old: Any) -> None:
        self.ended.setdefault((model, column), []).append((row, old))

    def write(self) -> None:
        """Store the new links (each new invitation's row then has its id) and end the
        replaced ones, with their audit events; the batch is empty afterwards."""
        events: list[dict[str, Any]] = []
        for model, rows in self.new.items():
            if rows:
                _insert(model, rows)
                events += audit.created_events(model, rows)
        for values, fresh in self._issued:
            fresh.id = values["id"]
        for (model, column), ended in self.ended.items():
            ids = [row.id for row, _ in ended]
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                db.session.execute(
                    sa.update(model).where(model.id.in_(chunk)).values({column: self.now})
                )
            events += [
                audit.changed_event(
                    model,
                    {"id": row.id, "email": row.email, "assessment_id": _assessment_of(row)},
                    {column: [old, self.now]},
                )
                for row, old in ended
            ]
        audit.write_events(events)
        self.new = {model: [] for model in self.new}
        self.ended, self._issued, self._unwritten = {}, [], {}


def _assessment_of(row: Any) -> int | None:
    return getattr(row, "assessment_id", None)


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT the rows, each given its id by the database (matched by its token hash, unique:
    RETURNING promises no order)."""
    db.session.flush()
    table = model.__table__
    query = sa.insert(table).returning(table.c.id, table.c.token_hash)
    ids = dict((h, i) for i, h in db.session.connection().execute(query, rows))
    for row in rows:
        row["id"] = ids[row["token_hash"]]
