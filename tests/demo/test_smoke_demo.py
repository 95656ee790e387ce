"""The demo register loads through the CLI, and every page of it renders."""

from __future__ import annotations

import re

import sqlalchemy as sa

from vendorrisk.models import Assessment, Attestation, Finding, Role, Supplier, User


def test_seed_demo_loads_a_realistic_register_and_prints_the_admin_login(app, runner, ctx):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert re.search(r"admin\s+admin@example.com\s+\S{16,}", result.output)
    with ctx() as session:
        suppliers = session.scalars(sa.select(Supplier)).all()
        assert 25 <= len(suppliers) <= 40
        assert {s.category.value for s in suppliers} >= {
            "group_company",
            "outsourcing_contractor",
            "cloud_service",
            "business_partner",
        }
        assert any(s.country != "JP" for s in suppliers)
        expired = [
            a
            for a in session.scalars(sa.select(Attestation))
            if not a.valid_on(__import__("datetime").date.today())
        ]
        assert expired, "the demo shows expired attestations"
        assert {u.role for u in session.scalars(sa.select(User))} == set(Role)
        assert all(s.tier for s in suppliers), "every demo supplier has a tier"
        findings = {f.status.value for f in session.scalars(sa.select(Finding))}
        assert findings == {"open", "in_progress", "resolved", "risk_accepted"}
        statuses = [a.status.value for a in session.scalars(sa.select(Assessment))]
        assert statuses.count("completed") >= 5 and statuses.count("submitted") >= 3
        assert all(
            s.latest_score is not None
            for s in suppliers
            if any(a.status.value == "completed" for a in s.assessments)
        )
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and again.output == ""


def test_every_demo_page_renders_for_an_admin(app, runner, auth, ctx):
    runner.invoke(args=["seed-demo"])
    auth.login(Role.admin)
    with ctx() as session:
        ids = session.scalars(sa.select(Supplier.id)).all()
    pages = [
        "/",
        "/suppliers/",
        "/questionnaires/",
        "/questionnaires/csm-v2-supplier",
        "/questionnaires/csm-v2-internal?lang=en",
        "/admin/users",
        "/admin/audit",
    ]
    pages += [f"/suppliers/{i}" for i in ids]
    with ctx() as session:
        pages += [f"/assessments/{i}" for i in session.scalars(sa.select(Assessment.id))]
    pages += ["/assessments/", "/findings/", "/admin/settings", "/admin/outbox"]
    for url in pages:
        response = auth.client.get(url)
        assert response.status_code == 200, url


def test_the_demo_critical_contractor_lists_its_subcontractors_and_the_roll_up_agrees(
    app, runner, auth, ctx
):
    """After its review, the payroll BPO has the two subcontractors its answers list (a Japanese
    printer with its 法人番号, an offshore data-entry firm handling personal information), and
    each of the roll-up's chain figures opens a list of that many suppliers."""
    from vendorrisk.services.register import chain
    from vendorrisk.services.reporting import chain_panel
    from vendorrisk.services.reporting.scope import Scope

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with ctx() as session:
        bpo = session.scalars(
            sa.select(Supplier).where(Supplier.name_ja == "株式会社こよみビジネスアウトソーシング")
        ).one()
        assert bpo.tier == "critical"
        below = {m.supplier.name_ja: m for m in chain.descendants(bpo.id)}
        assert set(below) == {"株式会社ふみづき印刷", "Pasig Payroll Services Inc."}
        printer, offshore = (below[n].supplier for n in sorted(below, reverse=True))
        assert printer.corporate_number == "1804126357902" and printer.country == "JP"
        assert printer.subcontracting_approved_on is not None
        assert offshore.country == "PH" and offshore.shares_personal_info
        assert offshore.subcontracting_approved_on is None
        for member in below.values():
            assert member.depth == 1 and member.supplier.chain_review_pending
            assert member.supplier.owner_id == bpo.owner_id
            assert member.supplier.reported_in_assessment_id is not None
        others = session.scalars(
            sa.select(Supplier).where(Supplier.reported_by_parent, Supplier.parent_id != bpo.id)
        ).all()
        assert others == []  # the other suppliers list none
    with app.test_request_context():
        panel = chain_panel.chain_panel(Scope())
        links = [(row.suppliers.value, row.suppliers.args) for row in panel.rows]
        links += [(n.value, n.args) for row in panel.rows for _, n in row.counts()]
        critical = panel.rows[0]
        assert critical.tier == "critical" and critical.personal_abroad.value >= 1
        assert critical.listed.value >= 1 and panel.deepest == 1
    auth.login(Role.ciso, locale="en")
    for value, args in links:
        query = "&".join(f"{k}={v}" for k, v in args.items())
        page = auth.client.get(f"/suppliers/?{query}", headers={"Accept-Language": "en"})
        found = re.search(r"(\d+) suppliers found", page.get_data(as_text=True))
        assert (int(found.group(1)) if found else 0) == value, args
