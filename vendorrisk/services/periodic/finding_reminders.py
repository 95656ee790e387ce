"""The finding-reminders job: the contacts of a completed assessment are reminded of the
findings shown to them that are still open, before their remediation due date and after it
(with a soft new date), each time with a fresh link to the portal.

Findings of one assessment due on the same day share one reminder per contact; a contact
reminded of findings due on two days in one run gets one new link, used by both letters.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.jobs import JobResult
from vendorrisk.mail import follow_up
from vendorrisk.models import Assessment, AssessmentStatus, Finding, Supplier, WebhookEvent
from vendorrisk.services import webhooks
from vendorrisk.services.periodic.links import LinkBatch
from vendorrisk.services.periodic.planning import (
    Planned,
    carry_out,
    local_day,
    local_today,
    not_offboarded,
)
from vendorrisk.services.periodic.rows import (
    OWNER,
    AssessmentRow,
    FindingRow,
    LinkRow,
    SupplierRow,
    UserRow,
    links_of,
    take_supplier,
)
from vendorrisk.services.review.findings import contacts_to_tell, link_until
from vendorrisk.services.webhooks import payloads

#: Reminders this many days before the remediation due date.
BEFORE_DAYS = (7,)
#: And this many days after it: the next day, then weekly up to four weeks.
AFTER_DAYS = (1, 8, 15, 22)
#: After the due date the contact is asked to answer within this many days (a soft new date).
ANSWER_WITHIN_DAYS = 7
#: A reminder missed (the scheduler was down) is still sent this many days late, no later.
CATCH_UP_DAYS = 6


@dataclass(frozen=True)
class FindingStage:
    """One reminder of a due date: "before" or "after" it by `days`, falling `on` a day."""

    kind: str
    days: int
    on: date


def finding_stage(due_on: date, told_on: date, today: date) -> FindingStage | None:
    """The reminder due today for findings due on `due_on`: the latest stage on or before
    today, at most CATCH_UP_DAYS old, and after the day the supplier was told of them."""
    stages = [FindingStage("before", d, due_on - timedelta(days=d)) for d in BEFORE_DAYS]
    stages += [FindingStage("after", d, due_on + timedelta(days=d)) for d in AFTER_DAYS]
    passed = [s for s in stages if s.on <= today]
    if not passed:
        return None
    stage = max(passed, key=lambda s: s.on)
    if (today - stage.on).days > CATCH_UP_DAYS or stage.on <= told_on:
        return None
    return stage


def answer_by(today: date) -> date:
    """The soft new date after the due date: ANSWER_WITHIN_DAYS on, moved off a weekend."""
    day = today + timedelta(days=ANSWER_WITHIN_DAYS)
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


_ASSESSED = aliased(Supplier, name="assessed")


def _due_findings(today: date) -> list[FindingRow]:
    """Open findings shown to the supplier of a completed assessment, due within the window;
    each with its assessment, whose supplier, owner and links are read too (two queries)."""
    earliest = today - timedelta(days=max(AFTER_DAYS) + CATCH_UP_DAYS)
    latest = today + timedelta(days=max(BEFORE_DAYS))
    due = sa.and_(
        Finding.visible_to_supplier,
        Finding.is_open,
        Finding.due_on.between(earliest, latest),
        Assessment.status == AssessmentStatus.completed,
        not_offboarded(),
    )
    query = (
        sa.select(
            *FindingRow.columns(),
            *AssessmentRow.columns(prefix="a_"),
            *SupplierRow.columns(_ASSESSED, "s_"),
            *UserRow.columns(OWNER, "o_"),
        )
        .join(Assessment, Assessment.id == Finding.assessment_id)
        .join(Supplier, Supplier.id == Finding.supplier_id)
        .outerjoin(_ASSESSED, _ASSESSED.id == Assessment.supplier_id)
        .outerjoin(OWNER, OWNER.id == _ASSESSED.owner_id)
        .where(due)
        .order_by(Finding.assessment_id, Finding.due_on, Finding.id)
    )
    assessments: dict[int, AssessmentRow] = {}
    suppliers: dict[int, SupplierRow] = {}
    findings = []
    for row in db.session.execute(query):
        assessment = assessments.get(row.assessment_id)
        if assessment is None:
            supplier = take_supplier(row, suppliers) if row.s_id is not None else None
            assessment = assessments[row.assessment_id] = AssessmentRow.take(
                row, "a_", supplier=supplier
            )
        findings.append(FindingRow.take(row, assessment=assessment))
    if assessments:
        ids = sa.select(Finding.assessment_id).join(Finding.assessment).join(Finding.supplier)
        links_of(assessments, ids.where(due))
    return findings


def _told_on(finding: FindingRow) -> date:
    """The day the supplier heard of the finding: the result, or its raising if later."""
    moments = [finding.assessment.completed_at, finding.created_at]
    return max(local_day(m) for m in moments)


def finding_reminders(now: datetime) -> JobResult:
    """Remind the contacts of open findings before and after their due date, with a new link."""
    today, result = local_today(now), JobResult()
    groups: dict[tuple[int, date, FindingStage], list[FindingRow]] = defaultdict(list)
    for finding in _due_findings(today):
        stage = finding_stage(finding.due_on, _told_on(finding), today)
        if stage is not None:
            groups[(finding.assessment_id, finding.due_on, stage)].append(finding)
    issued: dict[tuple[int, int], tuple[LinkRow, str]] = {}
    links = LinkBatch(now)
    planned: list[Planned] = []
    for (_, due_on, stage), findings in groups.items():
        planned += _reminders(findings, due_on, stage, today, links, issued, result)
    carry_out(planned, result)
    links.write()
    _emit_overdue(groups, now)
    return result


def _emit_overdue(
    groups: dict[tuple[int, date, FindingStage], list[FindingRow]], now: datetime
) -> None:
    """The finding.overdue event of each finding past its due date, once per due date (its
    key), whichever reminder after it is the first to run; all in one INSERT."""
    webhooks.emit_many(
        WebhookEvent.finding_overdue,
        (
            (f"finding:{f.id}:{f.due_on}", payloads.finding(f, f.assessment.supplier))
            for (_, _, stage), findings in groups.items()
            if stage.kind == "after"
            for f in findings
        ),
        now,
    )


def _reminders(
    findings: list[FindingRow],
    due_on: date,
    stage: FindingStage,
    today: date,
    links: LinkBatch,
    issued: dict[tuple[int, int], tuple[LinkRow, str]],
    result: JobResult,
) -> list[Planned]:
    """One reminder per contact of the findings' assessment, each planned by its key."""
    assessment = findings[0].assessment
    template = catalog().get(assessment.template_id, assessment.template_version)
    soft = answer_by(today)
    until = max(link_until(findings, today), soft)

    def remind(latest: LinkRow):
        contact = latest.contact
        if (assessment.id, contact.id) not in issued:  # one new link per contact and run
            issued[(assessment.id, contact.id)] = links.invitation(
                assessment, contact, latest.locale, until
            )
        invitation, link = issued[(assessment.id, contact.id)]
        return follow_up.finding_reminder(
            invitation,
            assessment,
            template,
            findings,
            (stage.kind, stage.days),
            due_on,
            link,
            soft,
        )

    recipients = contacts_to_tell(assessment)
    if not recipients:
        result.skip(f"assessment #{assessment.id}: no contact to remind of its findings")
    return [
        Planned(
            follow_up.finding_reminder_key(
                assessment, due_on, stage.kind, stage.days, latest.contact
            ),
            lambda latest=latest: remind(latest),
        )
        for latest in recipients
    ]
