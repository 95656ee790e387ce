"""The roll-up's chain panel (issue 18): what is known of the subcontractors (再委託先) of the
critical and high tiers — each figure one SQL aggregate, and each a link to the supplier list
showing exactly the suppliers it counts."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest

from tests.factories import make_answer, make_assessment
from vendorrisk.extensions import db
from vendorrisk.models import AssessmentStatus, Role, SupplierStatus
from vendorrisk.services.reporting import chain_panel, frames
from vendorrisk.services.reporting.scope import Scope

EN = {"Accept-Language": "en"}
APPROVED = date(2026, 4, 1)
DAY = date(2027, 1, 4)


def _completed(supplier, subcontracting: str, completed: datetime) -> None:
    assessment = make_assessment(
        supplier, status=AssessmentStatus.completed, completed_at=completed, score=70.0
    )
    make_answer(assessment, "sup-d9s-16", subcontracting)


@pytest.fixture
def chains(app, make_supplier):
    """Critical and high suppliers, their subcontractors, and some not counted.

    C1 critical ─┬─ a1 (approved, scored)
                 ├─ a2 high (approved) ── b1 (PH, personal information, approved)
                 └─ o1 (offboarded: not counted, neither approved nor scored)
    C2 critical: nothing below; its latest completed assessment says it subcontracts nothing
    C3 critical: nothing below; said so once, but its latest assessment says it subcontracts
    H1 high ── a3 (JP, personal information, not approved, scored)
    H2 high ── a4 (US, personal information, offboarded)
    H3 high, offboarded ── a5; M1 medium ── a6 (VN, personal information)
    """
    s = {}

    def add(key, parent=None, **fields):
        s[key] = make_supplier(
            name_ja=f"{key}社", parent_id=s[parent].id if parent else None, **fields
        )

    add("C1", tier="critical")
    add("a1", "C1", subcontracting_approved_on=APPROVED, latest_score=80.0)
    add("a2", "C1", tier="high", subcontracting_approved_on=APPROVED)
    add("b1", "a2", country="PH", shares_personal_info=True, subcontracting_approved_on=APPROVED)
    add("o1", "C1", status=SupplierStatus.offboarded)
    add("C2", tier="critical")
    add("C3", tier="critical")
    add("H1", tier="high")
    add("a3", "H1", shares_personal_info=True, latest_score=60.0)
    add("H2", tier="high")
    add("a4", "H2", country="US", shares_personal_info=True, status=SupplierStatus.offboarded)
    add("H3", tier="high", status=SupplierStatus.offboarded)
    add("a5", "H3")
    add("M1", tier="medium")
    add("a6", "M1", country="VN", shares_personal_info=True)
    with app.app_context():
        _completed(s["C2"], "na", datetime(2026, 12, 1, tzinfo=UTC))
        _completed(s["C3"], "na", datetime(2025, 12, 1, tzinfo=UTC))
        _completed(s["C3"], "yes", datetime(2026, 12, 1, tzinfo=UTC))
        db.session.commit()
    return s


def _figures(panel) -> dict[str, dict[str, int | None]]:
    return {
        row.tier: {
            "suppliers": row.suppliers.value,
            **{key: n.value for key, n in row.counts()},
            "deepest": row.deepest,
        }
        for row in panel.rows
    }


def test_the_panel_counts_what_is_known_of_the_subcontractors_by_tier(app, chains):
    with app.test_request_context():
        panel = chain_panel.chain_panel(Scope())
        assert _figures(panel) == {
            "critical": {
                "suppliers": 3,  # C1, C2, C3
                "known": 2,  # C1 (listed), C2 (none used)
                "listed": 1,
                "approved": 1,  # C1: a1 and a2 approved (o1 offboarded)
                "assessed": 0,  # a2 has no score
                "personal_abroad": 1,  # b1, two levels below C1
                "deepest": 2,
            },
            "high": {
                "suppliers": 3,  # H1, H2, a2
                "known": 2,  # H1, a2 (H2's only subcontractor is offboarded)
                "listed": 2,
                "approved": 1,  # a2
                "assessed": 1,  # H1
                "personal_abroad": 1,  # a2 (H1's is in Japan, H2's offboarded)
                "deepest": 1,
            },
        }
        assert panel.deepest == 2
        critical = panel.rows[0]
        assert critical.share("known") == 66.7 and critical.share("approved") == 100.0
        assert panel.rows[1].share("assessed") == 50.0  # of the listed ones
        assert _figures(chain_panel.chain_panel(Scope(tier="high"))).keys() == {"high"}
        assert chain_panel.chain_panel(Scope(tier="medium")).rows == []
        within = _figures(chain_panel.chain_panel(Scope(group_id=chains["C1"].id)))
        assert within["critical"]["suppliers"] == 1 and within["high"]["personal_abroad"] == 1
        tables = frames.export_frames(DAY, Scope())
        frame = tables["chain"].set_index("tier")
        assert list(frame.columns) == [
            "suppliers",
            *chain_panel.KEYS,
            "deepest_levels_below",
        ]
        assert (
            frame.loc["critical", "known"] == 2 and frame.loc["high", "deepest_levels_below"] == 1
        )


def _listed(auth, href: str) -> int:
    response = auth.client.get(href, headers=EN)
    assert response.status_code == 200, href
    page = response.get_data(as_text=True)
    found = re.search(r"(\d+) suppliers found", page)
    if found:
        return int(found.group(1))
    assert "No supplier matches these conditions." in page, href  # an empty list, not an error
    return 0


@pytest.mark.parametrize("scope", [Scope(), Scope(tier="critical"), Scope(category="other")])
def test_every_figure_opens_a_list_of_exactly_those_suppliers(auth, app, chains, scope):
    auth.login(Role.ciso, locale="en")
    with app.test_request_context():
        panel = chain_panel.chain_panel(scope)
        numbers = [(row.tier, row.suppliers) for row in panel.rows]
        numbers += [(row.tier, n) for row in panel.rows for _, n in row.counts()]
        links = [(tier, n.value, n.args) for tier, n in numbers]
    assert links
    for tier, value, args in links:
        assert args["tier"] == tier and args["status"] == "live"
        query = "&".join(f"{k}={v}" for k, v in args.items())
        assert _listed(auth, f"/suppliers/?{query}") == value, args


def test_the_roll_up_page_shows_the_panel_and_its_links_agree(auth, chains):
    auth.login(Role.ciso, locale="en")
    page = auth.client.get("/rollup", headers=EN).get_data(as_text=True)
    section = page[page.index('id="chain"') : page.index('id="coverage"')]
    assert "Critical and high tiers: their subcontractors" in section
    assert "Layer 3" in section  # two levels below C1
    found = re.findall(r'<a class="rollup-count[^"]*" href="([^"]+)">(\d+)</a>', section)
    assert len(found) == 2 * (1 + len(chain_panel.KEYS))
    for href, value in found:
        assert "subcontractors=" in href or "tier=" in href
        assert _listed(auth, html.unescape(href)) == int(value), href


def test_the_panel_is_one_query_whatever_the_number_of_suppliers(
    app, chains, make_supplier, count_queries
):
    counts = []
    for extra in (0, 30):
        for n in range(extra):
            top = make_supplier(name_ja=f"追加{extra}-{n}", tier="critical")
            make_supplier(name_ja=f"追加下{extra}-{n}", parent_id=top.id, country="CN")
        with app.test_request_context(), count_queries() as counter:
            panel = chain_panel.chain_panel(Scope())
        counts.append(counter.count)
    assert counts == [1, 1]
    assert panel.rows[0].suppliers.value == 33 and panel.rows[0].listed.value == 31
