"""Issue 17 in the daily jobs: a re-check asks each tier its own pack (lite for a low-tier
supplier, the full questionnaire for a critical one), and a SECURITY ACTION declaration not
confirmed for a year asks its owner to check it is still listed."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.conftest import PASSWORD
from tests.services.periodic.test_periodic import S, _rows, at
from vendorrisk.catalog import catalog
from vendorrisk.extensions import db
from vendorrisk.models import Assessment, Attestation, AttestationKind, Role, SupplierStatus
from vendorrisk.scoring.tiers import DEFAULT_PACKS
from vendorrisk.services.periodic.expiry_alerts import expiry_alerts
from vendorrisk.services.periodic.recheck import recheck
from vendorrisk.services.register import scs


def test_each_tier_is_asked_its_own_pack(app, make_user, make_supplier, make_contact):
    owner = make_user(Role.procurement)
    due = S + timedelta(days=1)
    ids = {}
    for tier in ("low", "medium", "high", "critical"):
        supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id, tier=tier,
                                 next_review_on=due)  # fmt: skip
        make_contact(supplier, email=f"{tier}@example.jp")
        ids[supplier.id] = tier
    with app.app_context():
        assert recheck(at(due)).done == 4
        db.session.commit()
        sent = {
            ids[a.supplier_id]: a.template_id for a in db.session.scalars(sa.select(Assessment))
        }
        assert sent == {
            "low": "csm-v3-supplier-lite",
            "medium": "csm-v3-supplier-standard",
            "high": "csm-v3-supplier",
            "critical": "csm-v3-supplier",
        }
        assert sent == dict(DEFAULT_PACKS)
        lite, full = catalog().get(sent["low"]), catalog().get(sent["critical"])
        assert (lite.pack, full.pack) == ("lite", "full")
        assert len(lite.questions) <= 25 < len(full.questions)


def test_a_declaration_unconfirmed_for_a_year_asks_its_owner_once(
    app, make_user, make_supplier, make_attestation, auth
):
    owner = make_user(Role.procurement, locale="en")
    supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id,
                             name_en="Declared Co.")  # fmt: skip
    old = make_attestation(supplier, issued_on=S - timedelta(days=400), identifier="40000000011")
    fresh = make_attestation(supplier, issued_on=S - timedelta(days=30), identifier="50000000022")
    make_attestation(supplier, kind=AttestationKind.isms, level=None, identifier="IS 9",
                     issued_on=date(2020, 1, 1), expires_on=S + timedelta(days=900))  # fmt: skip
    with app.app_context():
        expiry_alerts(at(S))
        db.session.commit()
        asked = _rows(kind="declaration_check")
        assert [(m.recipient, m.dedupe_key.split(":")[1]) for m in asked] == [
            (owner.email, str(old.id))
        ]
        assert "still listed" in asked[0].body_text and "40000000011" in asked[0].body_text
        assert asked[0].subject.endswith("Declared Co.")
        expiry_alerts(at(S + timedelta(days=1)))
        db.session.commit()
        assert len(_rows(kind="declaration_check")) == 1  # once per check due
    # The owner checks IPA's list and records it: no further mail for a year.
    auth.client.post("/auth/login", data={"email": owner.email, "password": PASSWORD})
    response = auth.client.post(f"/suppliers/{supplier.id}/attestations/{old.id}/confirm")
    assert response.status_code == 302
    not_a_declaration = auth.client.post(
        f"/suppliers/{supplier.id}/attestations/{fresh.id + 1}/confirm"
    )
    assert not_a_declaration.status_code == 404
    with app.app_context():
        confirmed = db.session.get(Attestation, old.id).confirmed_on
        assert confirmed is not None

        def asked_about(day: date) -> list[str]:
            before = {m.id for m in _rows(kind="declaration_check")}
            expiry_alerts(at(day))
            db.session.commit()
            return [
                m.dedupe_key.split(":")[1]
                for m in _rows(kind="declaration_check")
                if m.id not in before
            ]

        # The fresh one comes due a year after its declaration; the confirmed one a year after
        # the check, not before.
        assert asked_about(S - timedelta(days=30) + timedelta(days=366)) == [str(fresh.id)]
        assert asked_about(confirmed + timedelta(days=364)) == []
        assert asked_about(confirmed + timedelta(days=366)) == [str(old.id)]


def test_a_declaration_without_its_date_is_checked_a_year_after_it_was_recorded(
    app, make_user, make_supplier, make_attestation
):
    """The page and the job agree: with neither a confirmation nor a declaration date, the
    check is due a year after the declaration was recorded."""
    owner = make_user(Role.procurement)
    supplier = make_supplier(status=SupplierStatus.active, owner_id=owner.id)
    undated = make_attestation(supplier, issued_on=None, identifier="40000000099")
    with app.app_context():
        recorded = db.session.get(Attestation, undated.id).created_at
        due = scs.declaration_check_due(db.session.get(Attestation, undated.id), recorded.date())
        expiry_alerts(at(due - timedelta(days=2)))
        db.session.commit()
        assert _rows(kind="declaration_check") == []
        expiry_alerts(at(due + timedelta(days=1)))
        db.session.commit()
        assert [m.dedupe_key.split(":")[1] for m in _rows(kind="declaration_check")] == [
            str(undated.id)
        ]
