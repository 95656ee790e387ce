"""The chain on the supplier pages (issue 18): the parent on the form (a cycle refused on the
field), the chain up and down on the supplier page with the review of reported records, and the
"within the group or chain of" filter of the list and of the roll-up, whose every number opens a
list of exactly that subtree."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.factories import make_assessment, make_finding
from vendorrisk import clock
from vendorrisk.extensions import db
from vendorrisk.models import Role, Severity, Supplier, SupplierCategory, SupplierStatus

EN = {"Accept-Language": "en"}
REVIEWED = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)
FORM = {
    "category": "group_company",
    "status": "active",
    "criticality": "medium",
    "country": "JP",
    "max_outage": "weeks",
    "replaceability": "moderate",
}


@pytest.fixture
def tree(make_supplier):
    """A ─┬─ B ─┬─ C (reported by B, not yet reviewed)
       │     └─ D
       └─ E
    F (a supplier of its own)"""
    group, out = SupplierCategory.group_company, SupplierCategory.outsourcing_contractor
    live = {"status": SupplierStatus.active}
    a = make_supplier(name_ja="A社", name_en="A Holdings", category=group, tier="high", **live)
    b = make_supplier(
        name_ja="B社", name_en="B Systems", category=group, parent_id=a.id, tier="medium", **live
    )
    c = make_supplier(
        name_ja="C社",
        name_en="C Data",
        category=out,
        parent_id=b.id,
        reported_by_parent=True,
        tier="critical",
        latest_score=42.5,
        **live,
    )
    d = make_supplier(name_ja="D社", name_en="D Works", category=out, parent_id=b.id, **live)
    e = make_supplier(name_ja="E社", name_en="E Trading", category=group, parent_id=a.id, **live)
    f = make_supplier(name_ja="F社", name_en="F Cloud", tier="high", latest_score=80.0, **live)
    return {s.name_ja[0]: s.id for s in (a, b, c, d, e, f)}


def _supplier(ctx, supplier_id: int) -> Supplier:
    with ctx() as session:
        return session.get(Supplier, supplier_id)


def _section(page: str, section: str) -> str:
    start = page.index(f'id="{section}"')
    return page[start : page.index("</section>", start)]


# ------------------------------------------------------------------ the form


def test_the_form_offers_the_other_suppliers_by_name_as_parents(auth, tree):
    auth.login(Role.procurement, locale="en")
    page = auth.client.get(f"/suppliers/{tree['B']}/edit").get_data(as_text=True)
    select = page[
        page.index('name="parent_id"') : page.index("</select>", page.index('name="parent_id"'))
    ]
    options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[0] == ("", "—")
    assert [name for _, name in options[1:]] == [
        "A Holdings",
        "C Data",
        "D Works",
        "E Trading",
        "F Cloud",
    ]  # by name, itself left out
    assert f'<option selected value="{tree["A"]}">' in select


@pytest.mark.parametrize("below", ["B", "C"], ids=["its child", "its grandchild"])
def test_a_cycle_is_refused_on_the_field_and_nothing_is_saved(auth, ctx, tree, below):
    auth.login(Role.procurement, locale="en")
    data = FORM | {"name_ja": "A社（改）", "parent_id": str(tree[below])}
    response = auth.client.post(f"/suppliers/{tree['A']}/edit", data=data)
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    field = page[page.index('name="parent_id"') :]
    assert (
        f"{below}社 is below this supplier in its chain (its group company or subcontractor), "
        "so it cannot also be its parent" in field[: field.index("</div>") + 400]
    )
    saved = _supplier(ctx, tree["A"])
    assert (saved.name_ja, saved.parent_id) == ("A社", None)


def test_its_own_id_posted_as_its_parent_is_refused_in_words(auth, ctx, tree):
    auth.login(Role.procurement, locale="en")
    data = FORM | {"name_ja": "A社", "parent_id": str(tree["A"])}
    page = auth.client.post(f"/suppliers/{tree['A']}/edit", data=data).get_data(as_text=True)
    assert "A supplier cannot be its own parent company or contractor." in page
    assert "Not a valid choice" not in page
    assert _supplier(ctx, tree["A"]).parent_id is None


def test_a_supplier_registered_under_its_parent_and_the_history_names_the_parent(auth, ctx, tree):
    auth.login(Role.procurement, locale="en")
    data = FORM | {"name_ja": "G社", "name_en": "G Services", "parent_id": str(tree["E"])}
    response = auth.client.post("/suppliers/new", data=data)
    assert response.status_code == 302
    with ctx() as session:
        new = session.scalar(sa.select(Supplier).where(Supplier.name_ja == "G社"))
    assert (new.parent_id, new.reported_by_parent, new.chain_reviewed_at) == (
        tree["E"],
        False,
        None,
    )
    # Moved under B: the change is in its history, the parents by name.
    auth.client.post(f"/suppliers/{new.id}/edit", data=data | {"parent_id": str(tree["B"])})
    page = auth.client.get(f"/suppliers/{new.id}").get_data(as_text=True)
    history = page[page.index('id="history"') :]
    assert "Parent company or contractor: E Trading → B Systems" in history
    assert "Parent company or contractor: E Trading<" in history  # the creation
    assert f": {tree['E']} →" not in history and "parent_id" not in history


# ------------------------------------------------------------------ the supplier page


def test_the_page_shows_the_chain_up_and_down(auth, tree):
    auth.login(Role.procurement, locale="en")
    page = auth.client.get(f"/suppliers/{tree['B']}").get_data(as_text=True)
    section = _section(page, "chain")
    up = section[section.index('class="chain-up"') : section.index("</ol>")]
    assert re.findall(r">([A-Z] [A-Za-z]+)<", up) == ["A Holdings", "B Systems"]
    assert re.findall(r"Layer (\d)", up) == ["1", "2"]
    down = section[section.index('class="chain-down"') :]
    assert re.findall(r">([A-Z] [A-Za-z]+)</a>", down) == ["C Data", "D Works"]
    assert re.findall(r"Layer (\d)", down) == ["3", "3"]
    c_row = down[: down.index("D Works")]
    assert "Critical" in c_row and "42.5" in c_row
    assert "Reported by its parent, not yet reviewed" in c_row
    assert f'action="/suppliers/{tree["C"]}/chain/reviewed"' in c_row
    assert "Reported by its parent" not in down[down.index("D Works") :]
    assert f'href="/suppliers/?group={tree["B"]}"' in section
    assert f'href="/rollup?group={tree["B"]}"' in section


def test_the_top_shows_everyone_below_it_nested(auth, tree):
    auth.login(Role.auditor, locale="en")
    page = auth.client.get(f"/suppliers/{tree['A']}").get_data(as_text=True)
    section = _section(page, "chain")
    assert "At the top of its chain" in section
    down = section[section.index('class="chain-down"') :]
    # B's own list sits inside B's item: C and D at layer 3, E back at layer 2.
    shape = re.findall(r"<ul>|</ul>|[A-E] [A-Za-z]+</a>|Layer \d", down)
    assert shape[: shape.index("</ul>", shape.index("E Trading</a>")) + 1] == [
        "B Systems</a>",
        "Layer 2",
        "<ul>",
        "C Data</a>",
        "Layer 3",
        "D Works</a>",
        "Layer 3",
        "</ul>",
        "E Trading</a>",
        "Layer 2",
        "</ul>",
    ]
    assert "(4)" in section  # four below it
    assert "Reported by its parent, not yet reviewed" in section
    assert "/chain/reviewed" not in section  # the auditor reads, never reviews


def test_a_reported_supplier_shows_it_on_its_own_page(auth, tree):
    auth.login(Role.procurement, locale="en")
    page = auth.client.get(f"/suppliers/{tree['C']}").get_data(as_text=True)
    section = _section(page, "chain")
    assert "Reported by its parent, not yet reviewed" in section.split("<h3>")[0]
    assert re.findall(r"Layer (\d)", section) == ["1", "2", "3"]
    assert "No group company or subcontractor registered below it." in section
    assert f'href="/suppliers/?group={tree["A"]}"' in section  # the whole chain from its top


def test_procurement_marks_a_reported_record_reviewed(auth, ctx, tree, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: REVIEWED)
    auth.login(Role.procurement, locale="en")
    url = f"/suppliers/{tree['C']}/chain/reviewed"
    response = auth.client.post(url, data={"back_to": str(tree["A"])})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/suppliers/{tree['A']}#chain"
    assert _supplier(ctx, tree["C"]).chain_reviewed_at == REVIEWED
    page = auth.client.get(f"/suppliers/{tree['A']}").get_data(as_text=True)
    assert "not yet reviewed" not in _section(page, "chain")
    history = auth.client.get(f"/suppliers/{tree['C']}").get_data(as_text=True)
    assert "Reviewed by procurement at: — → " in history
    # A record nobody reported needs no review: refused in words, nothing changed.
    response = auth.client.post(f"/suppliers/{tree['D']}/chain/reviewed")
    assert response.headers["Location"] == f"/suppliers/{tree['D']}#chain"
    assert _supplier(ctx, tree["D"]).chain_reviewed_at is None


def test_the_auditor_may_not_mark_a_record_reviewed(auth, ctx, tree):
    auth.login(Role.auditor)
    response = auth.client.post(f"/suppliers/{tree['C']}/chain/reviewed")
    assert response.status_code == 403
    assert _supplier(ctx, tree["C"]).chain_reviewed_at is None


def _add_below(ctx, top_id: int, n: int) -> None:
    """n suppliers below `top_id`, three levels deep, two of them reported."""
    with ctx() as session:
        parents = [top_id]
        for i in range(n):
            below = Supplier(
                name_ja=f"下位{i:03d}",
                category=SupplierCategory.outsourcing_contractor,
                parent_id=parents[i % len(parents)] if i % 3 else top_id,
                reported_by_parent=i < 2,
                tier="low",
                latest_score=50.0 + i,
            )
            session.add(below)
            session.flush()
            if len(parents) < 4:
                parents.append(below.id)
        session.commit()


def test_the_page_queries_do_not_grow_with_the_number_below(
    auth, ctx, make_supplier, count_queries
):
    top = make_supplier(name_ja="親会社")
    auth.login(Role.procurement, locale="en")
    counts = []
    for n in (2, 20):
        _add_below(ctx, top.id, n)
        with count_queries() as counter:
            response = auth.client.get(f"/suppliers/{top.id}")
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert _section(response.get_data(as_text=True), "chain").count("Layer ") == 22


# ------------------------------------------------------------------ the list and the roll-up


def test_the_list_filters_by_a_subtree(auth, tree):
    auth.login(Role.procurement, locale="en")
    page = auth.client.get(f"/suppliers/?group={tree['B']}").get_data(as_text=True)
    assert "3 suppliers found" in page
    assert "Within the group or chain of: B Systems" in page
    listed = set(re.findall(r">([A-F] [A-Za-z]+)</a>", page.split("suppliers found")[1]))
    assert listed == {"B Systems", "C Data", "D Works"}
    assert "5 suppliers found" in auth.client.get(f"/suppliers/?group={tree['A']}").get_data(
        as_text=True
    )
    # A supplier with nobody below it is not a group: the filter is ignored, as any stale value.
    assert "6 suppliers found" in auth.client.get(f"/suppliers/?group={tree['F']}").get_data(
        as_text=True
    )


@pytest.fixture
def work(app, tree, today):
    """Open findings and late assessments inside and outside B's subtree."""
    with app.app_context():
        for key in ("C", "D", "F"):
            make_assessment(tree[key], due_on=today - timedelta(days=3))
            make_finding(tree[key], severity=Severity.high)
        make_finding(tree["A"], severity=Severity.low)
        db.session.commit()
    return tree


def _counts_on(page: str) -> list[tuple[str, int]]:
    found = re.findall(r'<a class="rollup-count[^"]*" href="([^"]+)">(\d+)</a>', page)
    return [(html.unescape(href), int(n)) for href, n in found]


LIST_TOTALS = {
    "/suppliers/": r"(\d+) suppliers found",
    "/assessments/": r"(\d+) assessments",
    "/findings/": r"(\d+) findings",
}


def _live(page: str) -> int:
    return int(re.search(r"Live suppliers:\s*<a[^>]*>(\d+)</a>", page).group(1))


def test_the_rollup_filters_by_a_subtree_and_its_links_list_exactly_it(auth, work):
    auth.login(Role.ciso, locale="en")
    whole = auth.client.get("/rollup", headers=EN).get_data(as_text=True)
    page = auth.client.get(f"/rollup?group={work['B']}", headers=EN).get_data(as_text=True)
    assert "Within the group or chain of: B Systems" in page
    assert (_live(whole), _live(page)) == (6, 3)  # B, C and D of the six
    counts = _counts_on(page)
    assert len(counts) > 60
    assert all(f"group={work['B']}" in href for href, _ in counts)
    for href, expected in counts:  # every number opens a list of exactly that many rows
        response = auth.client.get(href, headers=EN)
        assert response.status_code == 200, href
        listed = response.get_data(as_text=True)
        found = re.search(LIST_TOTALS[href.split("?")[0]], listed)
        empty = ("No supplier matches", "No assessment", "No finding")
        assert found or any(text in listed for text in empty), href  # a list, not an error
        assert (int(found.group(1)) if found else 0) == expected, href
    late = [n for href, n in counts if href.startswith("/assessments/") and "overdue=1" in href]
    assert late == [2]  # C's and D's (F's is outside)
    open_findings = [
        n
        for href, n in counts
        if href.startswith("/findings/") and not re.search("severity|age|accepted", href)
    ]
    assert open_findings == [2]  # C's and D's (A's and F's are outside)
