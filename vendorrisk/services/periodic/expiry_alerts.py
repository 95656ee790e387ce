"""The expiry-alerts job: alerts ahead of and on the expiry of attestations, contracts and risk
acceptances. An expiring attestation also asks the supplier's contacts for the renewed evidence
by a link (services.register.evidence_requests), until it has come."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import messages, questionnaire
from vendorrisk.models import (
    Attestation,
    AttestationKind,
    Contract,
    EvidenceRequest,
    Finding,
    FindingStatus,
    Supplier,
    User,
    WebhookEvent,
)
from vendorrisk.scoring.stages import CATCH_UP_DAYS, expiry_stage
from vendorrisk.scoring.tiers import add_months
from vendorrisk.services import webhooks
from vendorrisk.services.periodic.links import LinkBatch, open_requests
from vendorrisk.services.periodic.planning import (
    Planned,
    carry_out,
    deliverable,
    latest_by,
    local_day,
    local_today,
    not_offboarded,
)
from vendorrisk.services.periodic.rows import (
    AttestationRow,
    ContractRow,
    FindingRow,
    UserRow,
    contacts_of,
    supplier_columns,
    take_supplier,
    with_owner,
)
from vendorrisk.services.periodic.settings import schedule_settings
from vendorrisk.services.register import scs
from vendorrisk.services.webhooks import payloads


def expiry_alerts(now: datetime) -> JobResult:
    """Alert ahead of and on the expiry of attestations, contracts and risk acceptances."""
    settings, today, result = schedule_settings(), local_today(now), JobResult()
    offsets = settings.expiry_days_before
    first = today - timedelta(days=CATCH_UP_DAYS)
    last = today + timedelta(days=max(offsets, default=0))
    links = LinkBatch(now)
    planned = _attestation_alerts(now, today, offsets, first, last, links, result)
    planned += _contract_alerts(today, offsets, first, last, result)
    planned += _acceptance_alerts(today, offsets, first, last, result)
    planned += _declaration_checks(today, result)
    carry_out(planned, result)
    links.write()
    return result


def _attestations(where: sa.ColumnElement[bool]) -> list[AttestationRow]:
    """Attestations of suppliers still looked after, with supplier and owner (one query)."""
    query = with_owner(
        sa.select(*AttestationRow.columns(), *supplier_columns())
        .join(Supplier, Supplier.id == Attestation.supplier_id)
        .where(not_offboarded(), where)
        .order_by(Attestation.id)
    )
    suppliers: dict = {}
    return [
        AttestationRow.take(row, supplier=take_supplier(row, suppliers))
        for row in db.session.execute(query)
    ]


def _declaration_checks(today: date, result: JobResult) -> list[Planned]:
    """Ask the owner to check that declarations not confirmed for a year are still listed."""
    stale = add_months(today, -scs.DECLARATION_CHECK_MONTHS)
    declarations = _attestations(
        sa.and_(
            Attestation.kind == AttestationKind.security_action,
            Attestation.valid_on(today),
            sa.func.coalesce(
                Attestation.confirmed_on,
                Attestation.issued_on,
                sa.func.date(Attestation.created_at),
            )
            <= stale,
        )
    )
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


def _attestation_alerts(
    now: datetime,
    today: date,
    offsets: tuple[int, ...],
    first: date,
    last: date,
    links: LinkBatch,
    result: JobResult,
) -> list[Planned]:
    expiring = Attestation.expires_on.between(first, last)
    staged = [
        (attestation, days)
        for attestation in _attestations(expiring)
        if (days := expiry_stage(attestation.expires_on, today, offsets)) is not None
    ]
    if not staged:
        return []
    webhooks.emit_many(
        WebhookEvent.attestation_expiring,
        (
            (f"attestation:{a.id}:{a.expires_on}:{days}", payloads.attestation(a, a.supplier, days))
            for a, days in staged
        ),
        now,
    )
    ids = [a.id for a, _ in staged]
    fulfilled = latest_by(EvidenceRequest.attestation_id, EvidenceRequest.fulfilled_at, ids)
    contacts_of_supplier = contacts_of({a.supplier_id for a, _ in staged})
    open_links = open_requests(ids, now)
    cycle_start = timedelta(days=max(offsets, default=0))
    planned: list[Planned] = []
    for attestation, days in staged:
        supplier = attestation.supplier
        received = fulfilled.get(attestation.id)
        if local_day(received) < attestation.expires_on - cycle_start:
            received = None  # evidence sent for an earlier expiry, not this one
        contacts = [] if received else deliverable(contacts_of_supplier.get(supplier.id, []))
        for contact in contacts:
            planned.append(
                Planned(
                    questionnaire.evidence_request_key(attestation, days, contact),
                    lambda c=contact, a=attestation, d=days: links.evidence_request(
                        a,
                        c,
                        open_links.get((a.id, c.id), []),
                        lambda link, until: questionnaire.evidence_request(
                            a, c, d, today, link, until
                        ),
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
    query = with_owner(
        sa.select(*ContractRow.columns(), *supplier_columns())
        .join(Supplier, Supplier.id == Contract.supplier_id)
        .where(not_offboarded(), Contract.ends_on.between(first, last))
        .order_by(Contract.id)
    )
    suppliers: dict = {}
    planned = []
    for row in db.session.execute(query):
        contract = ContractRow.take(row, supplier=take_supplier(row, suppliers))
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


_ACCEPTED_BY = aliased(User, name="accepted_by")
_FINDING_OWNER = aliased(User, name="finding_owner")


def _acceptance_alerts(
    today: date, offsets: tuple[int, ...], first: date, last: date, result: JobResult
) -> list[Planned]:
    query = (
        sa.select(
            *FindingRow.columns(),
            *supplier_columns(),
            *UserRow.columns(_FINDING_OWNER, "fo_"),
            *UserRow.columns(_ACCEPTED_BY, "ab_"),
        )
        .join(Supplier, Supplier.id == Finding.supplier_id)
        .outerjoin(_FINDING_OWNER, _FINDING_OWNER.id == Finding.owner_id)
        .outerjoin(_ACCEPTED_BY, _ACCEPTED_BY.id == Finding.accepted_by_id)
        .where(
            not_offboarded(),
            Finding.status == FindingStatus.risk_accepted,
            Finding.accepted_until.between(first, last),
        )
        .order_by(Finding.id)
    )
    suppliers: dict = {}
    planned = []
    for row in db.session.execute(with_owner(query)):
        finding = FindingRow.take(
            row,
            supplier=take_supplier(row, suppliers),
            owner=UserRow.take(row, "fo_"),
            accepted_by=UserRow.take(row, "ab_"),
        )
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
