"""The demo's self-assessment: two closed cycles, a year and half a year back, and the open
one, with evidence a Japanese company would cite, the PDCA's progress and KPI values."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from vendorrisk.extensions import db
from vendorrisk.models import ItemStatus, Role, SelfAssessmentCycle, SelfAssessmentKpi, User
from vendorrisk.services.selfassessment.cycles import (
    close_cycle,
    current_template,
    cycle_name,
    start_cycle,
)

#: Evidence a Japanese company would cite, by directive.
_EVIDENCE = {
    1: "情報セキュリティ基本方針（取締役会承認）、全社リスク一覧",
    2: "CISO任命通知、セキュリティ委員会規程・体制図",
    3: "年度セキュリティ予算計画、教育計画・受講記録",
    4: "情報資産台帳、リスクアセスメント結果報告書",
    5: "EDR導入報告、脆弱性診断報告書、標的型攻撃メール訓練の結果",
    6: "セキュリティ委員会議事録（四半期）、内部監査報告書",
    7: "CSIRT設置規程、初動対応マニュアル、緊急連絡網",
    8: "BCP（サイバー編）、復旧手順書、復旧訓練記録",
    9: "委託先管理規程、契約書ひな形のセキュリティ条項、取引先評価結果",
    10: "JPCERT/CC 注意喚起の確認記録、業界ISACへの参加",
}
#: Each cycle's chance that an item has moved one step up (the PDCA at work).
_PROGRESS = (0.0, 0.45, 0.4)
#: Each cycle's KPI values, oldest first.
_KPIS = (
    {"risk_findings": 18, "training_completion": 72.5, "incidents": 4, "phishing_click_rate": 14.2,
     "incident_drills": 1, "recovery_drills": 0, "audits": 1, "management_reports": 2},
    {"risk_findings": 13, "training_completion": 84.0, "incidents": 3, "phishing_click_rate": 9.8,
     "incident_drills": 2, "recovery_drills": 1, "audits": 1, "management_reports": 2},
    {"risk_findings": 9, "training_completion": 91.3, "incidents": 2, "phishing_click_rate": 6.1,
     "incident_drills": 2, "recovery_drills": 1, "audits": 2, "management_reports": 4},
)  # fmt: skip
#: The statuses an item climbs, worst first.
_STEPS = (ItemStatus.not_done, ItemStatus.partly, ItemStatus.done)


def seed_cycles(users: list[User], today: date) -> list[SelfAssessmentCycle]:
    """Two closed cycles a year and half a year back, and the open one, with KPI values."""
    template = current_template()
    if template is None:
        return []
    rng = random.Random(4021)  # noqa: S311 (demo data, not a secret)  # nosec B311
    owners = [u for u in users if u.role in (Role.ciso, Role.reviewer, Role.admin)]
    closer = next((u for u in users if u.role == Role.ciso), None)
    made = []
    for index, days_back in enumerate((365, 182, 0)):
        as_of = today - timedelta(days=days_back)
        moment = datetime.combine(as_of, time(9), tzinfo=UTC)
        cycle = start_cycle(cycle_name(as_of), as_of, template, closer, moment)
        for item in cycle.items:
            _item(item, template.question(item.question_id), index, owners, as_of, rng)
        for key, value in _KPIS[index].items():
            cycle.kpis.append(SelfAssessmentKpi(key=key, value=float(value)))
        db.session.flush()
        if days_back:
            close_cycle(cycle, closer, moment + timedelta(days=14), as_of + timedelta(days=14))
        made.append(cycle)
    return made


def _evidence(question) -> str:
    """The guideline item's own example ("例：...") as the evidence cited, else the directive's."""
    example = question.help.ja.partition("例：")[2] if question.help else ""
    fallback = _EVIDENCE.get(question.mapping.directive, "取締役会議事録、経営会議資料")
    return example.rstrip("。") or fallback


def _item(item, question, index: int, owners: list[User], as_of: date, rng) -> None:
    """An item in the `index`-th cycle: drawn in the first, then moved on (mostly up)."""
    directive = question.mapping.directive
    if index == 0:
        weights = (30, 45, 25) if directive in (4, 6, 9, 10) else (10, 35, 55)
        item.status = rng.choices(_STEPS, weights=weights)[0]
        if directive == 10 and rng.random() < 0.3:
            item.status = ItemStatus.not_applicable
        item.evidence = _evidence(question)
    elif item.status in _STEPS:
        rank = _STEPS.index(item.status)
        if rank < 2 and rng.random() < _PROGRESS[index]:
            item.status = _STEPS[rank + 1]
        elif rank > 0 and rng.random() < 0.05:  # a few slip back
            item.status = _STEPS[rank - 1]
    settled = item.status in (ItemStatus.done, ItemStatus.not_applicable)
    if owners and (item.owner_id is None or rng.random() < 0.1):
        item.owner_id = None if not settled and rng.random() < 0.2 else rng.choice(owners).id
    if settled:
        item.target_on = None
        item.notes = ""
    elif rng.random() < 0.8:
        item.target_on = as_of + timedelta(days=rng.choice((90, 120, 180)))
        item.notes = "次期までに対応予定（是正計画あり）"
    else:
        item.target_on = None
