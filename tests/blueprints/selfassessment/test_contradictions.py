"""The warning beside a Direction 9 item rated implemented while the supplier figures disagree:
on the item page and in the cycle's list, in English and in Japanese, without an extra query."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from flask_babel import Domain, get_locale

from tests.services.selfassessment.test_contradictions import build_programme
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import Role, SelfAssessmentItem
from vendorrisk.services.selfassessment import cycles

BASE = "/self-assessment"
TODAY = date(2026, 10, 1)
NOW = datetime(2026, 10, 1, 9, tzinfo=UTC)
CADENCE = (
    "Rated implemented, but supplier data shows only 40.0% (4 of 10) of active suppliers "
    "assessed within their re-check cadence."
)
BADGE = "Supplier data disagrees"
#: The new messages in Japanese (as given for the catalogue), until the catalogue has them.
JAPANESE = {
    "Rated implemented, but supplier data shows only %(percent)s%% (%(achieved)d of "
    "%(total)d) of active suppliers assessed within their re-check cadence.":
        "自己評価は「実施している」ですが、取引先のデータでは、取引先（取引中）のうち"
        "定期再評価の周期内に評価済みなのは %(percent)s%%（%(total)d社中%(achieved)d社）です。",
    "Rated implemented, but supplier data shows security clauses missing from the contract in "
    "force (or no contract) of more than %(limit)s%% of critical and high-tier suppliers: "
    "%(clauses)s.":
        "自己評価は「実施している」ですが、取引先のデータでは、リスク区分「最重要」「高」の"
        "取引先のうち、有効な契約に次のセキュリティ条項がない（契約がない場合を含む）取引先が "
        "%(limit)s%% を超えています：%(clauses)s。",
    "%(clause)s %(percent)s%% (%(missing)d of %(total)d)":
        "%(clause)s %(percent)s%%（%(total)d社中%(missing)d社）",
    "Supplier data disagrees": "取引先データと不一致",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


def _cycle(ctx, statuses: dict[str, str], template_id: str = "csm-v2-internal") -> int:
    """An open cycle with these items' statuses (question id: status)."""
    with ctx() as session:
        template = cycles.catalog_template(template_id)
        cycle = cycles.start_cycle("2026年度 上期", date(2026, 9, 30), template, None, NOW)
        session.flush()
        session.execute(
            sa.update(SelfAssessmentItem)
            .where(SelfAssessmentItem.cycle_id == cycle.id)
            .where(SelfAssessmentItem.question_id.in_(statuses))
            .values(status=sa.case(statuses, value=SelfAssessmentItem.question_id))
        )
        session.commit()
        return cycle.id


def _article(page: str, question_id: str) -> str:
    """One item of the cycle page."""
    return re.search(rf'<article[^>]*id="{question_id}">.*?</article>', page, re.S).group(0)


def test_implemented_against_poor_figures_warns_on_the_item_and_the_cycle(
    auth, ctx, make_supplier, make_contract, app
):
    build_programme(make_supplier, make_contract, app)
    statuses = {"int-d9-01": "partly", "int-d9-02": "done", "int-d9-03": "done"}
    cycle_id = _cycle(ctx, statuses)
    auth.login(Role.ciso, locale="en")

    item = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d9-03").get_data(as_text=True)
    assert CADENCE in item and 'class="flash flash-warning sa-contradiction"' in item
    assert ">4 / 10</a>" in item  # the panel beside it shows the same figures

    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    d9_3 = _article(page, "int-d9-03")
    assert CADENCE in d9_3 and BADGE in d9_3
    d9_2 = _article(page, "int-d9-02")
    assert BADGE in d9_2
    assert "only 0.0% (0 of 3) of high-tier suppliers with every security clause" in d9_2
    assert "Right to audit 100.0% (6 of 6)" in d9_2
    # D9-1 is only partly implemented: its 70 % of contracts in force draw no warning.
    d9_1 = _article(page, "int-d9-01")
    assert "7 / 10" in d9_1 and "sa-contradiction" not in d9_1 and BADGE not in d9_1
    assert page.count(BADGE) == 2


def test_good_figures_or_a_lesser_status_draw_no_warning(
    auth, ctx, make_supplier, make_contract, app
):
    build_programme(make_supplier, make_contract, app, poor=False)
    cycle_id = _cycle(ctx, {"int-d9-01": "done", "int-d9-02": "done", "int-d9-03": "done"})
    auth.login(Role.auditor, locale="en")
    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    assert ">10 / 10</a>" in page and "sa-contradiction" not in page and BADGE not in page


def test_partly_implemented_draws_no_warning(auth, ctx, make_supplier, make_contract, app):
    build_programme(make_supplier, make_contract, app)
    cycle_id = _cycle(ctx, {"int-d9-02": "partly", "int-d9-03": "partly"})
    auth.login(Role.ciso, locale="en")
    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    item = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d9-03").get_data(as_text=True)
    assert ">4 / 10</a>" in page and ">4 / 10</a>" in item
    assert "sa-contradiction" not in page + item and BADGE not in page


def test_a_ver_3_cycle_warns_on_its_contract_item(auth, ctx, make_supplier, make_contract, app):
    build_programme(make_supplier, make_contract, app)
    cycle_id = _cycle(ctx, {"int3-d9-02": "done"}, "csm-v3-internal")
    auth.login(Role.ciso, locale="en")
    item = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int3-d9-02").get_data(as_text=True)
    assert "only 70.0% (7 of 10) of active outsourcing contractors with a contract" in item
    assert "of more than 20% of critical and high-tier suppliers: Security requirements" in item


def test_a_closed_cycle_warns_with_the_figures_it_kept(
    auth, ctx, make_supplier, make_contract, app
):
    suppliers = build_programme(make_supplier, make_contract, app)
    cycle_id = _cycle(ctx, {"int-d9-03": "done"})
    with ctx() as session:
        cycles.close_cycle(cycles.get_full(cycle_id), None, NOW, TODAY)
        session.commit()
    with app.app_context():  # every supplier is re-checked afterwards
        from vendorrisk.models import Supplier

        ids = [s.id for s in suppliers]
        db.session.execute(
            sa.update(Supplier).where(Supplier.id.in_(ids)).values(next_review_on=date(2027, 9, 1))
        )
        db.session.commit()
    auth.login(Role.ciso, locale="en")
    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    assert CADENCE in _article(page, "int-d9-03")


def test_the_warning_costs_no_query(auth, ctx, make_supplier, make_contract, app, count_queries):
    build_programme(make_supplier, make_contract, app)
    questions = ("int-d9-01", "int-d9-02", "int-d9-03")
    warned = _cycle(ctx, dict.fromkeys(questions, "done"))
    auth.login(Role.ciso, locale="en")
    counts = []
    for status in ("done", "partly"):
        with ctx() as session:
            session.execute(
                sa.update(SelfAssessmentItem)
                .where(SelfAssessmentItem.question_id.in_(questions))
                .values(status=status)
            )
            session.commit()
        for url in (f"{BASE}/cycles/{warned}", f"{BASE}/cycles/{warned}/items/int-d9-03"):
            with count_queries() as counted:
                page = auth.client.get(url).get_data(as_text=True)
            counts.append(counted.count)
            assert ("sa-contradiction" in page) == (status == "done"), (status, url)
    assert counts[:2] == counts[2:]


@pytest.fixture
def japanese(monkeypatch):
    """The Japanese catalogue with JAPANESE on top of it."""
    catalog = Catalog(locale="ja")
    for msgid, string in JAPANESE.items():
        catalog.add(msgid, string)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    original = Domain.get_translations

    def layered(self):
        shipped = original(self)
        if str(get_locale()) != "ja":
            return shipped
        ours = Translations(io.BytesIO(compiled.getvalue()))
        ours.add_fallback(shipped)
        return ours

    monkeypatch.setattr(Domain, "get_translations", layered)


def test_the_warning_in_japanese(auth, ctx, make_supplier, make_contract, app, japanese):
    build_programme(make_supplier, make_contract, app)
    cycle_id = _cycle(ctx, {"int-d9-02": "done", "int-d9-03": "done"})
    auth.login(Role.ciso, locale="ja")
    expected = (
        "自己評価は「実施している」ですが、取引先のデータでは、取引先（取引中）のうち"
        "定期再評価の周期内に評価済みなのは 40.0%（10社中4社）です。"
    )
    item = auth.client.get(f"{BASE}/cycles/{cycle_id}/items/int-d9-03").get_data(as_text=True)
    assert expected in item
    page = auth.client.get(f"{BASE}/cycles/{cycle_id}").get_data(as_text=True)
    assert expected in _article(page, "int-d9-03") and "取引先データと不一致" in page
    clauses = (
        "を超えています：セキュリティ要件 50.0%（6社中3社）、インシデント報告義務 50.0%"
        "（6社中3社）、監査の受入れ 100.0%（6社中6社）、"
    )
    assert clauses in _article(page, "int-d9-02")
