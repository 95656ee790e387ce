"""The supplier list drawn lean (issue 19): the filter form's fixed choices translated once per
language and shared, the Direction 9 cells drawn by Python (cells.py) — and still each user's
language, the same words and colours, and whatever a supplier record holds escaped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from tests.conftest import AuthActions
from tests.factories import make_finding
from vendorrisk.models import AttestationKind, Role


def _client_for(app: Flask, make_user, locale: str):
    client = app.test_client()
    AuthActions(client, make_user).login(Role.procurement, locale=locale)
    return client


def test_fixed_choices_follow_each_users_language(app, make_user, make_supplier):
    make_supplier()
    ja = _client_for(app, make_user, "ja")
    en = _client_for(app, make_user, "en")

    for _ in range(2):  # the second round reads the shared choices of both languages
        ja_page = ja.get("/suppliers/").get_data(as_text=True)
        en_page = en.get("/suppliers/").get_data(as_text=True)

        assert ">Has open findings</option>" in en_page
        assert ">Has open findings</option>" not in ja_page
        assert ">All categories</option>" in en_page
        assert ">All categories</option>" not in ja_page


def test_a_choice_not_offered_is_still_ignored(auth, make_supplier):
    make_supplier(name_ja="株式会社残る")
    auth.login(Role.procurement, locale="en")

    page = auth.client.get("/suppliers/?findings=bogus&tier=nope").get_data(as_text=True)

    assert "株式会社残る" in page  # an unknown value filters nothing
    assert 'value="bogus"' not in page


def test_cells_in_both_languages(ctx, auth, make_supplier, make_attestation, today):
    supplier = make_supplier(name_ja="株式会社セル", tier="high", latest_score=2.5)
    make_attestation(
        supplier, kind=AttestationKind.isms, level=None, expires_on=today - timedelta(days=1)
    )
    make_attestation(
        supplier,
        kind=AttestationKind.cyber_insurance,
        level=None,
        expires_on=today + timedelta(days=10),
    )
    with ctx() as session:
        make_finding(supplier)
        session.commit()

    auth.login(Role.procurement, locale="en")
    en = auth.client.get("/suppliers/").get_data(as_text=True)
    assert '<span class="badge crit-high">High</span>' in en
    assert f'<span class="badge bad">Expired</span> <small>{today - timedelta(days=1)}' in en
    assert (
        f'<span class="badge warn">Expiring soon</span> <small>{today + timedelta(days=10)}' in en
    )
    assert '<span class="badge bad">No contract in force</span>' in en
    assert '<span class="badge warn">1 open</span>' in en

    auth.client.post("/auth/language", data={"lang": "ja"})
    ja = auth.client.get("/suppliers/").get_data(as_text=True)
    assert "No contract in force" not in ja
    assert '<span class="badge crit-high">High</span>' not in ja
    assert '<span class="badge crit-high">' in ja


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_what_a_record_holds_is_escaped(auth, make_supplier, make_attestation, today, locale):
    supplier = make_supplier(name_ja="株式会社<b>太字</b>")
    make_attestation(
        supplier,
        kind=AttestationKind.security_action,
        level="star2",
        identifier='<script>alert("x")</script>',
        expires_on=today + timedelta(days=400),
    )
    auth.login(Role.procurement, locale=locale)

    page = auth.client.get("/suppliers/").get_data(as_text=True)

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "<b>太字</b>" not in page
