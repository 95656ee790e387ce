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
