"""Subcontractors (再委託先) from a supplier's answers: when a reviewer completes the review, each
row of the questionnaire's list of subcontractors becomes a supplier record under the assessed
supplier (第2層 below it), or matches a record already registered.

A row matches by 法人番号 first, then by its exact Japanese or English name (never a record
whose 法人番号 differs from the row's). A match keeps what procurement entered: it gains only the
facts it lacks, and is marked as reported again (awaiting procurement's review) only when it
gained something. The chain's rules hold (chain.check_parent): a match already under another
supplier keeps its parent, and one that would close a circle or make the chain too deep is left
where it is; the result says why. Rows naming the same company twice count once, so that
completing again, or next year's re-check with the same list, records nothing twice.

`preview` says what `record_reported` would do, from the same plan, without writing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext

from vendorrisk.catalog import Template
from vendorrisk.catalog.model import Question
from vendorrisk.extensions import db
from vendorrisk.models import Assessment, Supplier, SupplierCategory, SupplierStatus
from vendorrisk.scoring.answers import visible_questions
from vendorrisk.services import audit
from vendorrisk.services.register import chain
from vendorrisk.services.review import tiers
from vendorrisk.validation import normalize_corporate_number

#: The question asking whether the supplier subcontracts our work and gets our approval first
#: (both editions' full questionnaires): "not applicable" when it subcontracts none of it, and
#: then the list of subcontractors is not asked.
SUBCONTRACTING_QUESTION = "sup-d9s-16"
#: The columns that make a table question a list of subcontractors.
LIST_COLUMNS = frozenset({"name", "country", "our_data"})
#: The sharing flags (shares_personal_info, shares_confidential_info) of each "our data" answer.
OUR_DATA = {
    "none": (False, False),
    "confidential": (False, True),
    "personal": (True, False),
    "both": (True, True),
}
#: The facts whose gain raises a record's inherent risk: its tier is decided again.
SHARING = frozenset({"shares_personal_info", "shares_confidential_info"})


class Outcome(enum.StrEnum):
    #: A new supplier record under the assessed supplier.
    new = "new"
    #: A record already registered, under the assessed supplier (now or before).
    matched = "matched"
    #: A record already registered that stays where it is, or a row that cannot be recorded.
    unlinked = "unlinked"


@dataclass(frozen=True)
class Listed:
    """One row of the list as a record takes it."""

    name: str
    corporate_number: str | None
    country: str
    work: str
    personal: bool
    confidential: bool
    approved_on: date | None

    def facts(self) -> dict[str, Any]:
        """The columns this row gives a record (blank ones left out)."""
        found = {
            "corporate_number": self.corporate_number,
            "services": self.work,
            "shares_personal_info": self.personal,
            "shares_confidential_info": self.confidential,
            "subcontracting_approved_on": self.approved_on,
        }
        return {key: value for key, value in found.items() if value not in (None, "", False)}


@dataclass(frozen=True)
class Planned:
    """What one row records: a new record, a match (with the facts it gains), or why not."""

    row: Listed
    outcome: Outcome
    #: The record matched (None for a new one before it is written, or a row not recorded).
    supplier: Supplier | None = None
    #: How it matched: "corporate_number" or "name" ("" for a new record).
    matched_by: str = ""
    #: The facts a matched record gains, by column (the link to the parent as parent_id).
    gains: dict[str, Any] = field(default_factory=dict)
    #: Why it is left unlinked, in the reader's language.
    reason: str = ""

    @property
    def changes(self) -> bool:
        """A matched record gains something (it is then marked as reported again)."""
        return bool(self.gains)


@dataclass(frozen=True)
class Plan:
    """What the list of subcontractors of an assessment records, row by row."""

    question: Question | None
    rows: tuple[Planned, ...] = ()

    def of(self, outcome: Outcome) -> list[Planned]:
        return [p for p in self.rows if p.outcome == outcome]

    def summary(self) -> str:
        """The audit log's line: "2 subcontractors recorded, 1 matched" (and any left out)."""
        new, matched, unlinked = (len(self.of(o)) for o in Outcome)
        line = f"{new} subcontractors recorded, {matched} matched"
        return line + (f", {unlinked} left unlinked" if unlinked else "")


# -- reading the answers ------------------------------------------------------------------------


def is_subcontractor_list(question: Question) -> bool:
    """A table question whose columns include the name, the country and our data handled."""
    return question.type == "table" and LIST_COLUMNS.issubset(c.id for c in question.columns)


def list_question(template: Template, values: dict[str, Any]) -> Question | None:
    """The list of subcontractors the supplier was shown (hidden when it subcontracts nothing)."""
    return next((q for q in visible_questions(template, values) if is_subcontractor_list(q)), None)


def listed_rows(value: Any) -> list[Listed]:
    """The rows of an answer, each company once (a row whose 法人番号 or name an earlier row
    gave is left out); an answer that is not a table (an older text answer) lists none."""
    rows, seen = [], set()
    for cells in value if isinstance(value, list) else ():
        row = _listed(cells) if isinstance(cells, dict) else None
        keys = {("name", row.name), ("number", row.corporate_number)} if row else set()
        if row is None or keys & seen:
            continue
        seen |= keys - {("number", None)}
        rows.append(row)
    return rows


def _listed(cells: dict[str, Any]) -> Listed | None:
    name = " ".join(str(cells.get("name") or "").split())
    if not name:
        return None
    number = normalize_corporate_number(str(cells.get("corporate_number") or "")) or None
    personal, confidential = OUR_DATA.get(str(cells.get("our_data") or "none"), (False, False))
    return Listed(
        name=name[:200],
        corporate_number=number,
        country=str(cells.get("country") or "JP").upper()[:2],
        work=" ".join(str(cells.get("work") or "").split()),
        personal=personal,
        confidential=confidential,
        approved_on=_day(cells.get("approved_on")),
    )


def _day(value: Any) -> date | None:
    """A date cell as stored (ISO), or None."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


# -- the plan -------------------------------------------------------------------------------------


def preview(assessment: Assessment, template: Template) -> Plan:
    """What completing the review would record from the list of subcontractors (no writes)."""
    values = {a.question_id: a.value for a in assessment.answers}
    question = list_question(template, values)
    if question is None or assessment.supplier is None:
        return Plan(question)
    rows, parent = listed_rows(values.get(question.id)), assessment.supplier
    candidates, planned, taken = _candidates(rows), [], set()
    below_parent = _refused(None, parent) if rows else ""  # the same for every new record
    for row in rows:
        found = _plan(parent, row, candidates, below_parent)
        if found.supplier is not None and found.supplier.id in taken:
            continue  # two rows naming one record (by its number and by its name): once
        if found.supplier is not None:
            taken.add(found.supplier.id)
        planned.append(found)
    return Plan(question, tuple(planned))


def _candidates(rows: list[Listed]) -> list[Supplier]:
    """The registered suppliers any row may match, by number or name (one query)."""
    numbers = [r.corporate_number for r in rows if r.corporate_number]
    names = [r.name for r in rows]
    if not rows:
        return []
    return list(
        db.session.scalars(
            sa.select(Supplier)
            .where(
                sa.or_(
                    Supplier.corporate_number.in_(numbers),
                    Supplier.name_ja.in_(names),
                    Supplier.name_en.in_(names),
                )
            )
            .order_by(Supplier.id)
        )
    )


def _match(
    row: Listed, parent: Supplier, candidates: list[Supplier]
) -> tuple[Supplier | None, str]:
    """The record a row names, and how: by 法人番号, else by exact name (one already under
    `parent` first); a record with another 法人番号 than the row's is another company."""
    if row.corporate_number:
        for supplier in candidates:
            if supplier.corporate_number == row.corporate_number:
                return supplier, "corporate_number"
    named = [
        s
        for s in candidates
        if row.name in (s.name_ja, s.name_en)
        and (row.corporate_number is None or s.corporate_number in (None, row.corporate_number))
    ]
    named.sort(key=lambda s: (s.parent_id != parent.id, s.id))
    return (named[0], "name") if named else (None, "")


def _plan(parent: Supplier, row: Listed, candidates: list[Supplier], below_parent: str) -> Planned:
    """What one row records; `below_parent` is why no new record may go under `parent` (the
    parent as deep as a chain may go), or ""."""
    supplier, matched_by = _match(row, parent, candidates)
    if supplier is None:
        if below_parent:
            return Planned(row, Outcome.unlinked, reason=below_parent)
        return Planned(row, Outcome.new)
    if supplier.parent_id == parent.id:
        return Planned(row, Outcome.matched, supplier, matched_by, _gains(supplier, row, parent))
    if supplier.parent_id is not None and supplier.id != parent.id:
        above = db.session.get(Supplier, supplier.parent_id)
        reason = gettext(
            "Already under %(name)s in the register: it stays there.",
            name=above.display_name if above else supplier.parent_id,
        )
        return Planned(row, Outcome.unlinked, supplier, matched_by, reason=reason)
    if refused := _refused(supplier.id, parent):
        return Planned(row, Outcome.unlinked, supplier, matched_by, reason=refused)
    if not supplier.reported_by_parent:
        # A record procurement keeps at the top of its own chain (a direct supplier, a holding
        # company with its group): never moved under another by a supplier's answers.
        reason = gettext(
            "In the register at the top of its own chain: link it on its page if it is a "
            "subcontractor of this supplier."
        )
        return Planned(row, Outcome.unlinked, supplier, matched_by, reason=reason)
    return Planned(row, Outcome.matched, supplier, matched_by, _gains(supplier, row, parent))


def _refused(supplier_id: int | None, parent: Supplier) -> str:
    """Why `parent` cannot be the parent (the chain's rules), or ""."""
    try:
        chain.check_parent(supplier_id, parent.id)
    except chain.ChainError as refusal:
        return str(refusal)
    return ""


def _gains(supplier: Supplier, row: Listed, parent: Supplier) -> dict[str, Any]:
    """The facts `supplier` lacks that the row gives: blanks filled, flags raised, never a value
    procurement entered changed; the link to `parent` when it has none."""
    gains = {k: v for k, v in row.facts().items() if getattr(supplier, k) in (None, "", False)}
    if supplier.parent_id is None:
        gains["parent_id"] = parent.id
    return gains


# -- recording ------------------------------------------------------------------------------------


def record_reported(assessment: Assessment, template: Template, now: datetime) -> Plan:
    """Record the subcontractors the assessed supplier listed (on completing its review): new
    records under it, matches completed and linked, the rest left where they are; audited."""
    plan = preview(assessment, template)
    if not plan.rows:
        return plan
    parent, rules = assessment.supplier, tiers.tier_rules()
    done = []
    for planned in plan.rows:
        if planned.outcome == Outcome.new:
            planned = Planned(planned.row, Outcome.new, _create(planned.row, parent, assessment))
            tiers.apply_tier_rules(planned.supplier, rules, now)
        elif planned.outcome == Outcome.matched and planned.changes:
            _reported_again(planned.supplier, planned.gains, assessment)
            if SHARING.intersection(planned.gains):  # the inherent risk rises with them
                tiers.apply_tier_rules(planned.supplier, rules, now)
        done.append(planned)
    plan = Plan(plan.question, tuple(done))
    db.session.flush()
    audit.record("subcontractors_recorded", assessment, plan.summary(), _listed_names(plan))
    return plan


def _create(row: Listed, parent: Supplier, assessment: Assessment) -> Supplier:
    supplier = Supplier(
        name_ja=row.name,
        name_en=row.name if row.name.isascii() else "",
        category=SupplierCategory.outsourcing_contractor,
        status=SupplierStatus.onboarding,
        country=row.country,
        owner_id=parent.owner_id,
        parent_id=parent.id,
        services=row.work,
        shares_personal_info=row.personal,
        shares_confidential_info=row.confidential,
        corporate_number=row.corporate_number,
        subcontracting_approved_on=row.approved_on,
        reported_by_parent=True,
        chain_reviewed_at=None,
        reported_in_assessment_id=assessment.id,
    )
    db.session.add(supplier)
    db.session.flush()
    return supplier


def _reported_again(supplier: Supplier, gains: dict[str, Any], assessment: Assessment) -> None:
    """A match gains the facts it lacked and waits for procurement's review again."""
    for key, value in gains.items():
        setattr(supplier, key, value)
    if supplier.reported_by_parent:  # a record procurement entered keeps being theirs
        supplier.chain_reviewed_at = None
        supplier.reported_in_assessment_id = assessment.id


def _listed_names(plan: Plan) -> dict[str, list[str]]:
    """The audit event's detail: the names of the records created and matched, and of the rows
    left unlinked."""
    return {
        f"subcontractors_{outcome.value}": [
            p.supplier.display_name if p.supplier else p.row.name for p in plan.of(outcome)
        ]
        for outcome in Outcome
    }
