"""Direction 9 status of every supplier: declarations, certificates, insurance, contract, findings.

The same facts are computed twice. ``status_of`` works in Python on a supplier whose attestations
and contracts are loaded (the supplier page); the SQL twins below are correlated scalar
subqueries, so that the supplier list reads a page of suppliers with all of these facts in one
query, and filters and sorts on them without a query per row.

The Python side is the source of truth: ``scoring.tiers.required_level`` and
``review.tiers.held_level`` and ``interim_held``, ``scs.required`` and ``scs.state``, built on
the model rules ``Attestation.valid_on``, ``Contract.in_force_on`` and ``Finding.is_open`` (each
a hybrid with its own SQL twin). The aggregates below mirror them;
tests/services/register/test_d9.py checks that both agree on every demo supplier, so a change to
a rule must be made on both sides.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache, reduce
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from vendorrisk.extensions import db
from vendorrisk.i18n.labels import CLAUSE_LABELS
from vendorrisk.models import (
    CONTRACT_CLAUSES,
    Attestation,
    AttestationKind,
    Contract,
    Finding,
    SecurityActionLevel,
    Supplier,
)
from vendorrisk.scoring.tiers import HELD_ORDER
from vendorrisk.scoring.tiers import required_level as profile_required_level
from vendorrisk.services.register import scs
from vendorrisk.services.reporting import cache
from vendorrisk.services.review import tiers
from vendorrisk.vocab import Level, Outage

#: The level filter for every supplier not holding the level asked (short, not yet evaluated or
#: interim alike).
UNMET = "unmet"
#: Days before its expiry from which a certificate or a policy is "expiring soon".
SOON_DAYS = 60
_RANK = {level: index for index, level in enumerate(HELD_ORDER)}


@dataclass(frozen=True)
class D9Status:
    """What a supplier holds and what its contract says, as of `today`."""

    today: date
    #: Highest SECURITY ACTION declaration in force: "none", "star1" or "star2".
    security_action: str
    #: Its declaration id ("" without one).
    security_action_id: str
    #: Latest expiry of its ISMS certificates, Privacy Marks and cyber insurance policies.
    isms_until: date | None
    pmark_until: date | None
    insurance_until: date | None
    #: A contract is in force today.
    has_contract: bool
    #: Clauses set on the best contract in force (most clauses, then newest); 0 without one.
    clauses: int
    #: The CONTRACT_CLAUSES that contract lacks (all of them without a contract), in order.
    missing_clauses: tuple[str, ...]
    #: Findings open or in progress.
    open_findings: int
    #: SCS level asked (the rules' or a person's raise, scs.required) and level held
    #: (review.tiers.held_level).
    required: str
    held: str
    #: Where it stands against the level asked (scs.LevelState: met, interim, not_running, short).
    level_state: str = scs.LevelState.met

    @property
    def short(self) -> bool:
        """The scheme runs and it holds less than asked."""
        return self.level_state == scs.LevelState.short

    @property
    def missing_clause_labels(self) -> list[str]:
        return [str(CLAUSE_LABELS[name]) for name in self.missing_clauses]

    def state(self, until: date | None) -> str:
        """The state of an expiry date: "missing", "expired", "soon" (SOON_DAYS) or "valid"."""
        if until is None:
            return "missing"
        if until < self.today:
            return "expired"
        return "soon" if (until - self.today).days <= SOON_DAYS else "valid"


# -- Python: the source of truth ------------------------------------------------------------


def status_of(
    supplier: Supplier, today: date, scheme: scs.SchemeSettings | None = None
) -> D9Status:
    """The supplier page's Direction 9 panel, from its loaded attestations and contracts."""
    declaration = _best_declaration(supplier, today)
    contract = _best_contract(supplier, today)
    asked = scs.required(
        profile_required_level(tiers.profile_of(supplier))[0], supplier.required_level_raised
    )
    held = tiers.held_level(supplier, today)
    interim = tiers.interim_held(supplier, today)
    return D9Status(
        today=today,
        security_action=declaration.level.value if declaration else "none",
        security_action_id=declaration.identifier if declaration else "",
        isms_until=_latest_expiry(supplier, AttestationKind.isms),
        pmark_until=_latest_expiry(supplier, AttestationKind.pmark),
        insurance_until=_latest_expiry(supplier, AttestationKind.cyber_insurance),
        has_contract=contract is not None,
        clauses=contract.clause_count if contract else 0,
        missing_clauses=tuple(c for c in CONTRACT_CLAUSES if not getattr(contract, c, False)),
        open_findings=_open_findings(supplier),
        required=asked,
        held=held,
        level_state=scs.state(asked, held, interim, today, scheme or scs.scheme_settings()),
    )


def _best_declaration(supplier: Supplier, today: date) -> Attestation | None:
    """The SECURITY ACTION declaration in force with the most stars, then the newest."""
    valid = [
        a
        for a in supplier.attestations
        if a.kind is AttestationKind.security_action and a.level and a.valid_on(today)
    ]
    return max(valid, key=lambda a: (_RANK[a.level.value], a.id), default=None)


def _best_contract(supplier: Supplier, today: date) -> Contract | None:
    """As suppliers.active_contract: the contract in force with the most clauses, then newest."""
    live = [c for c in supplier.contracts if c.in_force_on(today)]
    return max(live, key=lambda c: (c.clause_count, c.id), default=None)


def _latest_expiry(supplier: Supplier, kind: AttestationKind) -> date | None:
    dates = [a.expires_on for a in supplier.attestations if a.kind is kind and a.expires_on]
    return max(dates, default=None)


def _open_findings(supplier: Supplier) -> int:
    findings = db.session.scalars(sa.select(Finding).where(Finding.supplier_id == supplier.id))
    return sum(f.is_open for f in findings)


# -- SQL twins: correlated to the enclosing select of Supplier ----------------------------------


def _star_rank() -> sa.ColumnElement[int]:
    return sa.case(
        *((Attestation.level == level, _RANK[level.value]) for level in SecurityActionLevel),
        else_=0,
    )


def _declarations_in_force(today: date) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        Attestation.supplier_id == Supplier.id,
        Attestation.kind == AttestationKind.security_action,
        Attestation.valid_on(today),
    )


def security_action_rank(today: date) -> sa.ColumnElement[int]:
    """Index in HELD_ORDER of the best SECURITY ACTION declaration in force (0 without)."""
    best = sa.select(sa.func.max(_star_rank())).where(*_declarations_in_force(today))
    return sa.func.coalesce(best.correlate(Supplier).scalar_subquery(), 0)


def security_action_level(today: date) -> sa.ColumnElement[str]:
    """Mirrors _best_declaration's level: "none", "star1" or "star2"."""
    return sa.case(
        {_RANK[level.value]: level.value for level in SecurityActionLevel},
        value=security_action_rank(today),
        else_="none",
    )


def security_action_id(today: date) -> sa.ColumnElement[str]:
    """Mirrors _best_declaration's identifier ("" without one)."""
    best = (
        sa.select(Attestation.identifier)
        .where(*_declarations_in_force(today))
        .order_by(_star_rank().desc(), Attestation.id.desc())
        .limit(1)
    )
    return sa.func.coalesce(best.correlate(Supplier).scalar_subquery(), "")


def valid_until(kind: AttestationKind) -> sa.ScalarSelect[date]:
    """Mirrors _latest_expiry: the latest expiry date of the supplier's attestations of a kind."""
    latest = sa.select(sa.func.max(Attestation.expires_on)).where(
        Attestation.supplier_id == Supplier.id, Attestation.kind == kind
    )
    return latest.correlate(Supplier).scalar_subquery()


def _contracts_in_force(today: date) -> tuple[sa.ColumnElement[bool], ...]:
    """The supplier's contracts in force today."""
    return (Contract.supplier_id == Supplier.id, Contract.in_force_on(today))


def _clause_sum() -> sa.ColumnElement[int]:
    """Mirrors Contract.clause_count."""
    return reduce(
        operator.add, (sa.case((getattr(Contract, c), 1), else_=0) for c in CONTRACT_CLAUSES)
    )


def clause_coverage(today: date) -> sa.ColumnElement[int]:
    """Clauses of the best contract in force: the most over the contracts in force, 0 without."""
    best = sa.select(sa.func.max(_clause_sum())).where(*_contracts_in_force(today))
    return sa.func.coalesce(best.correlate(Supplier).scalar_subquery(), 0)


def clause_mask(today: date) -> sa.ScalarSelect[int]:
    """Mirrors _best_contract: bit i set when it has CONTRACT_CLAUSES[i]; NULL without one."""
    bits = reduce(
        operator.add,
        (sa.case((getattr(Contract, c), 1 << i), else_=0) for i, c in enumerate(CONTRACT_CLAUSES)),
    )
    best = (
        sa.select(bits)
        .where(*_contracts_in_force(today))
        .order_by(_clause_sum().desc(), Contract.id.desc())
        .limit(1)
    )
    return best.correlate(Supplier).scalar_subquery()


def open_findings() -> sa.ScalarSelect[int]:
    """Mirrors Finding.is_open: the number of findings open or in progress."""
    count = sa.select(sa.func.count(Finding.id)).where(
        Finding.supplier_id == Supplier.id, Finding.is_open
    )
    return count.correlate(Supplier).scalar_subquery()


def _needs_star4() -> sa.ColumnElement[bool]:
    """Mirrors scoring.tiers.required_level's triggers."""
    return sa.or_(
        Supplier.shares_confidential_info,
        Supplier.has_network_access,
        Supplier.has_admin_access,
        Supplier.max_outage.in_((Outage.hours.value, Outage.days.value)),
    )


def required_rank() -> sa.ColumnElement[int]:
    """Mirrors scs.required: the rules' level, or a person's raise above it."""
    by_rule = sa.case((_needs_star4(), _RANK[Level.star4]), else_=_RANK[Level.star3])
    raised = sa.case(_RANK, value=Supplier.required_level_raised, else_=0)
    return sa.case((raised > by_rule, raised), else_=by_rule)


def required_level() -> sa.ColumnElement[str]:
    """Mirrors scs.required over scoring.tiers.required_level: one of vocab.SCS_LEVELS."""
    return sa.case({rank: level for level, rank in _RANK.items()}, value=required_rank())


def _attested_rank() -> sa.ColumnElement[int]:
    """Mirrors review.tiers._attested_level as an index in HELD_ORDER (0 for other kinds)."""
    return sa.case(
        (Attestation.kind == AttestationKind.security_action, _star_rank()),
        (Attestation.kind == AttestationKind.scs, sa.case(_RANK, value=Attestation.scs_level)),
        else_=0,
    )


def held_rank(today: date) -> sa.ColumnElement[int]:
    """Mirrors review.tiers.held_level as an index in HELD_ORDER: the best declaration or SCS
    evaluation in force."""
    best = sa.select(sa.func.max(_attested_rank())).where(
        Attestation.supplier_id == Supplier.id,
        Attestation.kind.in_((AttestationKind.security_action, AttestationKind.scs)),
        Attestation.valid_on(today),
    )
    return sa.func.coalesce(best.correlate(Supplier).scalar_subquery(), 0)


def held_level(today: date) -> sa.ColumnElement[str]:
    """Mirrors review.tiers.held_level: one of scoring.HELD_ORDER."""
    return sa.case(
        {rank: level for level, rank in _RANK.items()}, value=held_rank(today), else_="none"
    )


def interim_held(today: date) -> sa.ColumnElement[bool]:
    """Mirrors review.tiers.interim_held: an ISMS certificate in force covering the service."""
    return sa.exists().where(
        Attestation.supplier_id == Supplier.id,
        Attestation.kind == AttestationKind.isms,
        Attestation.covers_service,
        Attestation.valid_on(today),
    )


def level_condition(state: str, today: date, scheme: scs.SchemeSettings) -> sa.ColumnElement[bool]:
    """Mirrors scs.state: the suppliers in `state` (a scs.LevelState)."""
    below = held_rank(today) < required_rank()
    interim = sa.and_(below, interim_held(today)) if scheme.interim == "isms" else sa.false()
    if state == scs.LevelState.met:
        return sa.not_(below)
    if scheme.running(today):
        return below if state == scs.LevelState.short else sa.false()
    if state == scs.LevelState.interim:
        return interim
    if state == scs.LevelState.not_running:
        return sa.and_(below, sa.not_(interim)) if scheme.interim == "isms" else below
    return sa.false()


@lru_cache(maxsize=4)
def columns(today: date) -> tuple[sa.ColumnElement[Any], ...]:
    """The SQL twins of D9Status's fields, in the order `status_from_row` reads them (built once
    a day: building these expressions cost the supplier list more than running them)."""
    return (
        security_action_level(today).label("d9_security_action"),
        security_action_id(today).label("d9_security_action_id"),
        valid_until(AttestationKind.isms).label("d9_isms_until"),
        valid_until(AttestationKind.pmark).label("d9_pmark_until"),
        valid_until(AttestationKind.cyber_insurance).label("d9_insurance_until"),
        clause_coverage(today).label("d9_clauses"),
        clause_mask(today).label("d9_clause_mask"),
        open_findings().label("d9_open_findings"),
        required_level().label("d9_required"),
        held_level(today).label("d9_held"),
        interim_held(today).label("d9_interim"),
    )


def status_from_row(today: date, values: Any, scheme: scs.SchemeSettings) -> D9Status:
    sa_level, sa_id, isms, pmark, insurance, clauses, mask, findings, asked, held, interim = values
    return D9Status(
        today=today,
        security_action=sa_level,
        security_action_id=sa_id,
        isms_until=isms,
        pmark_until=pmark,
        insurance_until=insurance,
        has_contract=mask is not None,
        clauses=clauses,
        missing_clauses=tuple(
            c for i, c in enumerate(CONTRACT_CLAUSES) if not (mask or 0) & (1 << i)
        ),
        open_findings=findings,
        required=asked,
        held=held,
        level_state=scs.state(asked, held, bool(interim), today, scheme),
    )


# -- filters ----------------------------------------------------------------------------------


def _expiry_condition(kind: AttestationKind, wanted: str, today: date) -> sa.ColumnElement[bool]:
    until = valid_until(kind)
    return until >= today if wanted == "valid" else sa.or_(until.is_(None), until < today)


def _security_action_condition(wanted: str, today: date) -> sa.ColumnElement[bool]:
    rank = security_action_rank(today)
    return rank == 0 if wanted == "none" else rank >= _RANK[wanted]


def conditions(
    today: date,
    *,
    insurance: str = "",
    isms: str = "",
    security_action: str = "",
    clause_missing: str = "",
    level: str = "",
    findings: str = "",
    overdue: bool = False,
    scheme: scs.SchemeSettings | None = None,
) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions for the Direction 9 filters; empty or unknown values add none.

    insurance, isms: "valid" or "missing" (expired or none); security_action: "none", "star1"
    (one star or more) or "star2"; clause_missing: a CONTRACT_CLAUSES name the best contract in
    force lacks (or there is none); level: a scs.LevelState ("meets" is "met", "below" is "short")
    or UNMET (not holding the level asked, whatever the reason); findings:
    "open" (some open) or "none"; overdue: the next re-check is past.
    """
    found = [
        _expiry_condition(kind, wanted, today)
        for kind, wanted in (
            (AttestationKind.cyber_insurance, insurance),
            (AttestationKind.isms, isms),
        )
        if wanted in ("valid", "missing")
    ]
    if security_action in ("none", *(m.value for m in SecurityActionLevel)):
        found.append(_security_action_condition(security_action, today))
    if clause_missing in CONTRACT_CLAUSES:
        bit = 1 << CONTRACT_CLAUSES.index(clause_missing)
        found.append(sa.func.coalesce(clause_mask(today), 0).bitwise_and(bit) == 0)
    level = {"meets": scs.LevelState.met, "below": scs.LevelState.short}.get(level, level)
    if level in (scs.LevelState.met, UNMET):  # whatever the scheme's state: no settings read
        below = held_rank(today) < required_rank()
        found.append(below if level == UNMET else sa.not_(below))
    elif level in tuple(scs.LevelState):
        found.append(level_condition(level, today, scheme or scs.scheme_settings()))
    if findings in ("open", "none"):
        count = open_findings()
        found.append(count > 0 if findings == "open" else count == 0)
    if overdue:
        found.append(Supplier.is_review_overdue(today))
    return found


# -- the list page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    supplier: Supplier
    d9: D9Status


@dataclass(frozen=True)
class Page:
    """One page of rows, with what the pager macro needs."""

    items: list[Row]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return math.ceil(self.total / self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def list_rows(
    stmt: sa.Select, today: date, page: int, per_page: int, counted: Hashable | None = None
) -> Page:
    """One page of the suppliers `stmt` selects, each with its D9Status: one query for the page,
    and one to count them unless the count is kept.

    The page is chosen on the suppliers' ids alone (a narrow sort, the order's own columns), and
    only its rows are then read whole with their owner and Direction 9 columns: sorting every
    matching row at its full width and working out the D9 columns of every row the offset skips
    was most of the list's time on PostgreSQL.

    `counted` names what `stmt` selects regardless of its order (the filter): the number of
    matching suppliers is then kept with the roll-up's figures (reporting/cache.py), under that
    name and the day, until a write to a table a figure reads moves their version. Counting
    reads every matching supplier, so it grows with the register; paging through a list, or
    coming back to it, no longer counts it again.
    """
    page = max(page, 1)
    bare = stmt.options(lazyload("*"))

    def count() -> int:
        matching = bare.order_by(None).subquery()
        return db.session.scalar(sa.select(sa.func.count()).select_from(matching)) or 0

    total = count() if counted is None else cache.kept("supplier_count", (counted, today), count)
    window = (
        bare.with_only_columns(Supplier.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery("page_window")
    )
    rows = db.session.execute(
        stmt.add_columns(*columns(today)).join(window, window.c.id == Supplier.id)
    )
    scheme = scs.scheme_settings()
    items = [Row(row[0], status_from_row(today, row[1:], scheme)) for row in rows]
    return Page(items, page, per_page, total)
