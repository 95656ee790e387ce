"""The expiry-alerts job: alerts ahead of and on the expiry of attestations, contracts and risk
acceptances. An expiring attestation also asks the supplier's contacts for the renewed evidence
by a link (services.register.evidence_requests), until it has come."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages, questionnaire
from vendorrisk.models import (
    Attestation,
    AttestationKind,
    Contact,
    Contract,
    EvidenceRequest,
    Finding,
    FindingStatus,
    Supplier,
)
from vendorrisk.scoring.stages import CATCH_UP_DAYS, expiry_stage
from vendorrisk.scoring.tiers import add_months
from vendorrisk.services.periodic.planning import (
    Planned,
    carry_out,
    deliverable,
    latest_by,
    local_day,
    local_today,
    not_offboarded,
)
from vendorrisk.services.periodic.settings import schedule_settings
from vendorrisk.services.register import scs
from vendorrisk.services.register.evidence_requests import ask_for_evidence, open_requests_of


def expiry_alerts(now: datetime) -> JobResult:
    """Alert ahead of and on the expiry of attestations, contracts and risk acceptances."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    offsets = settings.expiry_days_before
    first = today - timedelta(days=CATCH_UP_DAYS)
    last = today + timedelta(days=max(offsets, default=0))
    planned = _attestation_alerts(now, today, offsets, first, last, result)
    planned += _contract_alerts(today, offsets, first, last, result)
    planned += _acceptance_alerts(today, offsets, first, last, result)
    planned += _declaration_checks(today, result)
    carry_out(planned, result)
    return result


def _declaration_checks(today: date, result: JobResult) -> list[Planned]:
    """Ask the owner to check that declarations not confirmed for a year are still listed."""
    stale = add_months(today, -scs.DECLARATION_CHECK_MONTHS)
    declarations = db.session.scalars(
        sa.select(Attestation)
        .join(Attestation.supplier)
        .where(
            not_offboarded(),
            Attestation.kind == AttestationKind.security_action,
            Attestation.valid_on(today),
            sa.func.coalesce(
                Attestation.confirmed_on,
                Attestation.issued_on,
                sa.func.date(Attestation.created_at),
            )
            <= stale,
        )
        .order_by(Attestation.id)
        .options(contains_eager(Attestation.supplier).joinedload(Supplier.owner))
    ).unique()
    planned = []
    for declaration in declarations:
        due = scs.declaration_check_due(declaration, today)
        owner = declaration.supplier.owner
        if due is None or due > today:
            continue
        if owner is None or not owner.active:
            result.skip(f"declaration #{declaration.id}: no owner to check it")
            continue
        planned.append(
            Planned(
                messages.declaration_check_key(declaration, due, owner),
                lambda a=declaration, d=due, o=owner: messages.declaration_check(o, a, d),
            )
        )
    return planned


def _expiring_attestations(first: date, last: date) -> list[Attestation]:
    return list(
        db.session.scalars(
            sa.select(Attestation)
            .join(Attestation.supplier)
            .where(not_offboarded(), Attestation.expires_on.between(first, last))
            .order_by(Attestation.id)
            .options(contains_eager(Attestation.supplier).joinedload(Supplier.owner))
        ).unique()
    )


def _contacts_of(supplier_ids: set[int]) -> dict[int, list[Contact]]:
    found: dict[int, list[Contact]] = {}
    if supplier_ids:
        query = sa.select(Contact).where(Contact.supplier_id.in_(supplier_ids)).order_by(Contact.id)
        for contact in db.session.scalars(query):
            found.setdefault(contact.supplier_id, []).append(contact)
    return found


def _last_fulfilled(attestation_ids: list[int]) -> dict[int, datetime]:
    return latest_by(EvidenceRequest.attestation_id, EvidenceRequest.fulfilled_at, attestation_ids)


def _attestation_alerts(
    now: datetime,
    today: date,
    offsets: tuple[int, ...],
    first: date,
    last: date,
    result: JobResult,
) -> list[Planned]:
    staged = [
        (attestation, days)
        for attestation in _expiring_attestations(first, last)
        if (days := expiry_stage(attestation.expires_on, today, offsets)) is not None
    ]
    fulfilled = _last_fulfilled([a.id for a, _ in staged])
    contacts_of = _contacts_of({a.supplier_id for a, _ in staged})
    links_of = open_requests_of([a.id for a, _ in staged], now)
    cycle_start = timedelta(days=max(offsets, default=0))
    planned: list[Planned] = []
    for attestation, days in staged:
        supplier = attestation.supplier
        received = fulfilled.get(attestation.id)
        if local_day(received) < attestation.expires_on - cycle_start:
            received = None  # evidence sent for an earlier expiry, not this one
        contacts = [] if received else deliverable(contacts_of.get(supplier.id, []))
        for contact in contacts:
            planned.append(
                Planned(
                    questionnaire.evidence_request_key(attestation, days, contact),
                    lambda c=contact, a=attestation, d=days: ask_for_evidence(
                        a, c, d, today, now, links_of.get((a.id, c.id), [])
                    ),
                )
            )
        owner = supplier.owner
        if owner is None or not owner.active:
            result.skip(f"{supplier.display_name} (#{supplier.id}): no owner to tell of expiry")
            continue
        planned.append(
            Planned(
                messages.attestation_expiring_key(attestation, days, owner),
                lambda a=attestation, d=days, o=owner, asked=contacts, got=received: (
                    messages.attestation_expiring(o, a, d, today, asked, got)
                ),
            )
        )
    return planned


def _contract_alerts(
    today: date, offsets: tuple[int, ...], first: date, last: date, result: JobResult
) -> list[Planned]:
    contracts = db.session.scalars(
        sa.select(Contract)
        .join(Contract.supplier)
        .where(not_offboarded(), Contract.ends_on.between(first, last))
        .order_by(Contract.id)
        .options(contains_eager(Contract.supplier).joinedload(Supplier.owner))
    ).unique()
    planned = []
    for contract in contracts:
        days = expiry_stage(contract.ends_on, today, offsets)
        if days is None:
            continue
        owner = contract.supplier.owner
        if owner is None or not owner.active:
            result.skip(f"contract #{contract.id}: no owner to tell of its end")
            continue
        planned.append(
            Planned(
                messages.contract_ending_key(contract, days, owner),
                lambda c=contract, d=days, o=owner: messages.contract_ending(o, c, d, today),
            )
        )
    return planned


def _acceptance_alerts(
    today: date, offsets: tuple[int, ...], first: date, last: date, result: JobResult
) -> list[Planned]:
    findings = db.session.scalars(
        sa.select(Finding)
        .join(Finding.supplier)
        .where(
            not_offboarded(),
            Finding.status == FindingStatus.risk_accepted,
            Finding.accepted_until.between(first, last),
        )
        .order_by(Finding.id)
        .options(
            contains_eager(Finding.supplier),
            joinedload(Finding.owner),
            joinedload(Finding.accepted_by),
        )
    ).unique()
    planned = []
    for finding in findings:
        days = expiry_stage(finding.accepted_until, today, offsets)
        if days is None:
            continue
        users = {u.id: u for u in (finding.accepted_by, finding.owner) if u and u.active}
        if not users:
            result.skip(f"finding #{finding.id}: nobody to tell the risk acceptance expires")
        for user in users.values():
            planned.append(
                Planned(
                    messages.acceptance_expiring_key(finding, days, user),
                    lambda f=finding, d=days, u=user: messages.acceptance_expiring(u, f, d, today),
                )
            )
    return planned
