"""Moving the company's self-assessment from Ver 2.0 to Ver 3.0 of the guideline: the demo's
cycles, through the web pages, every Ver 2.0 answer carried to its Ver 3.0 item or listed to
be confirmed, the Ver 2.0 cycles left as they were, the edition break marked."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from vendorrisk.catalog import Catalog
from vendorrisk.models import ItemStatus, Role, SelfAssessmentCycle, SelfAssessmentItem, User

BASE = "/self-assessment"
FIELDS = ("status", "evidence", "notes", "owner_id", "target_on", "evidence_file_id", "version")
WEAKEST = (ItemStatus.not_done, ItemStatus.partly, ItemStatus.done, ItemStatus.not_applicable)


def _snapshot(session) -> dict:
    """Every item of every cycle as stored."""
    items = session.scalars(sa.select(SelfAssessmentItem))
    return {(i.cycle_id, i.question_id): tuple(getattr(i, f) for f in FIELDS) for i in items}


def _items(session, cycle_id: int) -> dict[str, SelfAssessmentItem]:
    stmt = sa.select(SelfAssessmentItem).where(SelfAssessmentItem.cycle_id == cycle_id)
    return {i.question_id: i for i in session.scalars(stmt)}


@pytest.fixture
def shipped() -> Catalog:
    return Catalog.from_folder(Path(__file__).parents[3] / "questionnaires")


def test_the_demo_self_assessment_moves_from_ver_2_to_ver_3(runner, auth, ctx, shipped):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    auth.login(Role.ciso, locale="en")
    with ctx() as session:
        cycles = session.scalars(sa.select(SelfAssessmentCycle).order_by("as_of")).all()
        assert [c.template_id for c in cycles] == ["csm-v2-internal"] * 3
        last = cycles[-1]
        last_id, as_of, name = last.id, last.as_of, last.name
    closed = auth.client.post(f"{BASE}/cycles/{last_id}/close", data={"confirm": "y"})
    assert closed.status_code == 302
    with ctx() as session:
        before = _snapshot(session)
        v2_answers = _items(session, last_id)
        labels = {u.id: u.label for u in session.scalars(sa.select(User))}

    # The form offers both editions; the move is one submit.
    form = auth.client.get(f"{BASE}/cycles/new").get_data(as_text=True)
    assert 'value="csm-v3-internal"' in form and 'value="csm-v2-internal"' in form
    assert f"{name} follows Ver 2.0" in form
    new_on = (as_of + timedelta(days=1)).isoformat()
    response = auth.client.post(
        f"{BASE}/cycles/new",
        data={"name": "Ver 3.0 移行", "as_of": new_on, "template": "csm-v3-internal"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = auth.client.get(response.headers["Location"]).get_data(as_text=True)

    v2, v3 = shipped.get("csm-v2-internal"), shipped.get("csm-v3-internal")
    [crosswalk] = shipped.crosswalks
    v2_question = {q.mapping.item: q.id for q in v2.questions}
    v3_question = {q.mapping.item: q.id for q in v3.questions}
    with ctx() as session:
        cycle = session.scalar(
            sa.select(SelfAssessmentCycle).where(SelfAssessmentCycle.name == "Ver 3.0 移行")
        )
        assert (cycle.template_id, cycle.copied_from_id) == ("csm-v3-internal", last_id)
        carried = _items(session, cycle.id)
        report = cycle.carried
    assert set(carried) == {q.id for q in v3.questions} and len(carried) == 49

    # Every Ver 2.0 answer is accounted for once: carried to its item(s) or listed as dropped.
    assert sorted(row["item"] for row in report["rows"]) == sorted(v2_question)
    assert report["from_cycle"] == name and report["crosswalk"] == crosswalk.id
    incoming: dict[str, list[str]] = {}
    homes: dict[str, list[str]] = {}  # the items nearest to a dropped one, and which
    for row in crosswalk.rows:
        for code in row.source:
            old = v2_answers[v2_question[code]]
            [listed] = [r for r in report["rows"] if r["item"] == code]
            assert listed["status"] == (old.status.value if old.status else None)
            for target in row.target:
                incoming.setdefault(target, []).append(code)
            if row.relation == "dropped":
                assert not row.target and row.nearest
                for nearest in row.nearest:
                    assert carried[v3_question[nearest]].review is not None, (code, nearest)
                    homes.setdefault(nearest, []).append(code)
    for target, codes in incoming.items():
        item = carried[v3_question[target]]
        olds = [v2_answers[v2_question[c]] for c in codes]
        if len(olds) == 1:
            old = olds[0]
            assert (item.status, item.evidence, item.owner_id, item.target_on) == (
                old.status, old.evidence, old.owner_id, old.target_on
            ), target  # fmt: skip
            assert (
                item.notes.startswith(old.notes) and item.evidence_file_id == old.evidence_file_id
            )
        else:  # merged: the weakest status, each answer labelled with its Ver 2.0 item
            statuses = [o.status for o in olds]
            weakest = None if None in statuses else min(statuses, key=WEAKEST.index)
            assert item.status == weakest, target
            for code, old in zip(codes, olds, strict=True):
                if old.evidence:
                    assert f"[{code}] {old.evidence}" in item.evidence
                if old.owner_id is not None:
                    assert f"[{code}] 担当 / owner: {labels[old.owner_id]}" in item.notes
            assert item.review is not None
    for home, codes in homes.items():  # a dropped item's answer lives on in its nearest items
        notes = carried[v3_question[home]].notes
        assert "From items no longer in this edition:" in notes
        for code in codes:
            old = v2_answers[v2_question[code]]
            if old.evidence:
                assert f"[{code}] {old.evidence}" in notes, (home, code)
    relation_of = {t: row.relation for row in crosswalk.rows for t in row.target}
    for target, relation in relation_of.items():
        item = carried[v3_question[target]]
        if relation in ("split", "merged", "new"):
            assert item.review is not None, target
        if relation == "new":
            assert item.status is None and target not in incoming
    principles = [q.id for q in v3.questions if q.mapping.principle]
    assert len(principles) == 9 and all(carried[q].review == "new" for q in principles)
    flagged = sorted(q for q, i in carried.items() if i.review)
    assert carried[v3_question["D5-4"]].review == "split"  # Ver 2.0's D5-1, in two
    assert carried[v3_question["D8-1"]].review == "merged"  # Ver 2.0's D8-1 and D8-2

    # The page lists what to confirm, where each answer went and what changed between editions.
    assert f"To be confirmed <small>{len(flagged)} item(s)</small>" in page
    assert "Edition break: Ver 2.0 → Ver 3.0" in page
    assert re.search(r"Direction 5:\s*6 items → 10 items", page)
    assert re.search(r"Direction 9:\s*title reworded", page)
    dropped = [row for row in report["rows"] if row["relation"] == "dropped"]
    assert dropped and all(
        f"not carried; closest: {', '.join(r['nearest'])}" in page for r in dropped
    )
    assert "Principles (Appendix A-1)" in page
    # Direction 9's supplier-programme figures stand beside Ver 3.0's items as beside Ver 2.0's
    d93 = page.split(f'id="{v3_question["D9-3"]}"', 1)[1].split("</article>", 1)[0]
    assert "Active suppliers assessed within their re-check cadence" in d93
    d92 = page.split(f'id="{v3_question["D9-2"]}"', 1)[1].split("</article>", 1)[0]
    assert "Suppliers whose contract in force lacks the clause" in d92

    # Saving a flagged item confirms it; the Ver 2.0 cycles are exactly as they were.
    d54 = carried[v3_question["D5-4"]]
    saved = auth.client.post(
        f"{BASE}/cycles/{cycle.id}/items/{d54.question_id}",
        data={"status": "done", "owner_id": "", "target_on": "", "evidence": "EDR",
              "notes": "", "version": str(d54.version)},
    )  # fmt: skip
    assert saved.status_code == 302
    with ctx() as session:
        assert _items(session, cycle.id)[d54.question_id].review is None
        after = _snapshot(session)
    assert {k: v for k, v in after.items() if k[0] != cycle.id} == before
    page = auth.client.get(f"{BASE}/cycles/{cycle.id}").get_data(as_text=True)
    assert f"To be confirmed <small>{len(flagged) - 1} item(s)</small>" in page

    # Comparison and trend cross the editions through the crosswalk and mark the break.
    compare = auth.client.get(f"{BASE}/cycles/{cycle.id}/compare").get_data(as_text=True)
    assert "Edition break: Ver 2.0 → Ver 3.0" in compare
    assert "▶ Ver 3.0 移行 (Ver 3.0)" in compare
    report = auth.client.get("/report?lang=en").get_data(as_text=True)
    section = report.split("Our own self-assessment", 1)[1]
    assert "Cybersecurity Management Guidelines Ver 3.0" in section
    assert "Edition break: Ver 2.0 → Ver 3.0" in section
    assert f"{len(flagged) - 1} carried items are still to be confirmed." in section
    assert "Principles (Appendix A-1), answered by management: —." in section
    index = auth.client.get(f"{BASE}/").get_data(as_text=True)
    assert index.count("<td>Ver 2.0</td>") == 3 and index.count("<td>Ver 3.0</td>") == 1

    # There is no way back: no crosswalk leads from Ver 3.0 to Ver 2.0.
    auth.client.post(f"{BASE}/cycles/{cycle.id}/close", data={"confirm": "y"})
    form = auth.client.get(f"{BASE}/cycles/new").get_data(as_text=True)
    assert 'value="csm-v2-internal"' not in form
    refused = auth.client.post(
        f"{BASE}/cycles/new",
        data={"name": "戻し", "as_of": (as_of + timedelta(days=2)).isoformat(),
              "template": "csm-v2-internal"},
    )  # fmt: skip
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)

    # The next Ver 3.0 cycle keeps what is still to be confirmed, and nothing else is flagged.
    following = auth.client.post(
        f"{BASE}/cycles/new",
        data={"name": "次期", "as_of": (as_of + timedelta(days=3)).isoformat(),
              "template": "csm-v3-internal"},
    )  # fmt: skip
    assert following.status_code == 302
    with ctx() as session:
        newest = session.scalar(
            sa.select(SelfAssessmentCycle).where(SelfAssessmentCycle.name == "次期")
        )
        still = sorted(i.question_id for i in newest.items if i.review)
        assert newest.carried is None
    assert still == [q for q in flagged if q != d54.question_id]


def test_scores_cross_the_edition_break_through_the_crosswalk(app, shipped):
    """A Ver 2.0 cycle scored on Ver 3.0's items: each item takes its Ver 2.0 item's status."""
    from datetime import UTC, date, datetime

    from vendorrisk.extensions import db
    from vendorrisk.services.selfassessment import cycles, summary

    now = datetime(2026, 11, 1, tzinfo=UTC)
    with app.app_context():
        v2, v3 = shipped.get("csm-v2-internal"), shipped.get("csm-v3-internal")
        first = cycles.start_cycle("2025年度", date(2026, 3, 31), v2, None, now)
        for item in first.items:  # Direction 5 of Ver 2.0 done but D5-5, the rest partly
            done = item.question_id.startswith("int-d5-")
            item.status = ItemStatus.done if done else ItemStatus.partly
            if item.question_id == "int-d5-05":
                item.status = ItemStatus.not_done
        cycles.close_cycle(first, None, now, date(2026, 3, 31))
        second = cycles.start_cycle("2026年度", date(2026, 9, 30), v3, None, now)
        db.session.flush()
        through = cycles.scores_of(first, {i.question_id: i.status for i in first.items}, v3)
        own = cycles.scores_of(first, {i.question_id: i.status for i in first.items})
        assert own.directives[5] == 83.3 and not own.through and own.principles is None
        # Ver 3.0's D5 has 10 items: 4 are new (no status), the 6 others come from Ver 2.0's
        # D5-1, 2, 3, 4 and 6 (done); Ver 2.0's D5-5 was dropped, so its "not done" is not there
        assert through.through and through.directives[5] == 100.0
        assert through.directives[9] == own.directives[9] == 50.0
        result = summary.summary(second, with_indicators=False)
        assert result.edition_break and (result.edition, result.previous_edition) == (
            "Ver 3.0", "Ver 2.0",
        )  # fmt: skip
        assert result.to_review == sum(1 for i in second.items if i.review)
        [d5] = [d for d in result.directives if d.directive == 5]
        assert d5.previous == through.directives[5]
        db.session.rollback()
